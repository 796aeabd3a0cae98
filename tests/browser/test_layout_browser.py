"""No page is wider than the screen: every page the navigation links to, on a phone
(390 × 844) and a laptop (1280 × 900), with long texts where people's data can be long.

Screenshots go to `UI_SCREENSHOT_DIR` when it is set, else to the test's tmp folder.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from .test_ui_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, browser  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed at /usr/bin/chromium"),
]

SIZES = {"phone": (390, 844), "laptop": (1280, 900)}
LONG_WORD = "no-price-found-because-" + "x" * 160  # no place to break: it must wrap anyway
LONG_REASON = f"the page gives no price: {LONG_WORD} " + "and the words go on and on " * 12


@pytest.fixture
def staff(transactional_db, django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return django_user_model.objects.create_user(username="dana", password="pw-dana-123", is_staff=True, is_superuser=True)


@pytest.fixture
def long_data(staff):
    """One of each thing the nav's pages list, with the longest texts people's data can have."""
    from deals.models import (
        AlertEvent,
        AlertRule,
        Channel,
        DealListing,
        DealMatch,
        DealSource,
        Notification,
        Watch,
    )
    from tracker.models import CheckLog, Listing, PricePoint, Product, Store

    store = Store.objects.create(domain="127.0.0.1:8001", name="The Extremely Long Named Kitchen Equipment Emporium")
    product = Product.objects.create(owner=staff, name="Copper kettle " + "with a very long name " * 8)
    listing = Listing.objects.create(
        product=product, store=store, url="http://127.0.0.1:8001/p/" + "k" * 300, currency="EUR",
        status=Listing.Status.NO_PRICE, status_reason=LONG_REASON[:500],
    )
    other = Product.objects.create(owner=staff, name="Kettle with prices")
    priced = Listing.objects.create(product=other, store=store, url="http://127.0.0.1:8001/p/kettle", currency="EUR")
    now = timezone.now()
    for step, price in enumerate(["49.90", "45.00", "47.50"]):
        at = now - timezone.timedelta(days=3 - step)
        check = CheckLog.objects.create(listing=priced, outcome="ok", finished_at=at, http_status=200, method="json-ld")
        PricePoint.objects.create(listing=priced, check_log=check, price=Decimal(price), currency="EUR", checked_at=at, method="json-ld")
    Listing.objects.filter(pk=priced.pk).update(last_price=Decimal("47.50"), status="ok", last_checked_at=now)
    CheckLog.objects.create(listing=listing, outcome="no_price", finished_at=now, error=LONG_REASON)

    rule = AlertRule.objects.create(product=other, kind=AlertRule.Kind.choices[0][0], threshold=Decimal("40"))
    point = PricePoint.objects.filter(listing=priced).last()
    event = AlertEvent.objects.create(
        rule=rule, product=other, listing=priced, price_point=point, kind=rule.kind, reason=LONG_REASON[:300],
        old_price=Decimal("49.90"), new_price=Decimal("47.50"), currency="EUR",
    )
    channel = Channel.objects.create(owner=staff, name="Phone " + "y" * 90, url_masked="ntfy://127.0.0.1/" + "z" * 200)
    Notification.objects.create(event=event, channel=channel, last_error=LONG_REASON)

    source = DealSource.objects.create(owner=staff, name="Deals feed " + "f" * 150, url="http://127.0.0.1:8002/feed/" + "q" * 400,
                                       last_error=LONG_REASON[:500], last_status="error")
    deal = DealListing.objects.create(source=source, external_id="1", url="http://127.0.0.1:8002/deal/" + "d" * 300,
                                      title="Kettle deal " + LONG_WORD, price=Decimal("30"), currency="EUR", seller="S" * 150)
    watch = Watch.objects.create(owner=staff, name="Kettles " + "w" * 150, query="kettle " + "copper " * 20, max_price=Decimal("60"))
    DealMatch.objects.create(watch=watch, listing=deal, comparable_price=Decimal("45"), comparable_count=3, score=40,
                             reason=LONG_REASON[:500])
    return staff


# Fields that do not look like the others: the text-like inputs, selects and textareas of a page
# must share one border, corner and font size (a browser's default look is the tell).
_UNSTYLED_FIELDS = """() => {
  const skip = new Set(["checkbox", "radio", "hidden", "submit", "button", "range", "file", "color"]);
  const fields = [...document.querySelectorAll("main input, main select, main textarea")]
    .filter(el => !skip.has(el.type) && el.offsetParent !== null);
  const look = el => { const s = getComputedStyle(el);
    return [s.borderTopWidth, s.borderTopStyle, s.borderTopLeftRadius, s.fontSize].join(" "); };
  const expected = "1px solid 8px 16px";
  return fields.filter(el => look(el) !== expected).map(el => `${el.tagName.toLowerCase()}[type=${el.type}] #${el.id}: ${look(el)}`);
}"""


def _nav_pages(page, base: str) -> list[str]:
    """The pages the top navigation links to, and the pages their own sub-navigation links to."""
    def links(selector: str) -> list[str]:
        hrefs = page.eval_on_selector_all(selector, "els => els.map(a => a.href)")
        return [href for href in hrefs if href.startswith(base)]

    page.goto(f"{base}/")
    top = links("header.top nav a")
    # and where people go from there: a product's page, the add form
    found = list(dict.fromkeys([f"{base}/", *top, *links("table.products td.name a"), f"{base}/add"]))
    for url in top:
        page.goto(url)
        for href in links("main nav a"):
            if href not in found and "?" not in href:
                found.append(href)
    return found


def test_no_page_in_the_nav_is_wider_than_the_screen(browser, live_server, long_data, tmp_path):  # noqa: F811
    folder = Path(os.environ.get("UI_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    too_wide: list[str] = []
    unstyled: list[str] = []
    for label, (width, height) in SIZES.items():
        context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=label == "phone")
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("#id_username", "dana")
            page.fill("#id_password", "pw-dana-123")
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/")
            pages = _nav_pages(page, live_server.url)
            assert len(pages) >= 8, pages  # products, alerts, scout, notifications, settings, metrics, admin, subpages
            for url in pages:
                page.goto(url)
                scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
                name = urlsplit(url).path.strip("/").replace("/", "-") or "dashboard"
                page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
                if scroll_width > inner_width:
                    too_wide.append(f"{urlsplit(url).path} at {width}px: {scroll_width}px wide")
                if "/admin/" not in url:  # the admin has its own look
                    unstyled.extend(f"{urlsplit(url).path}: {field}" for field in page.evaluate(_UNSTYLED_FIELDS))
        finally:
            context.close()
    assert too_wide == [], "\n".join(too_wide)
    assert unstyled == [], "\n".join(sorted(set(unstyled)))

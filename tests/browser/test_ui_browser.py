"""The web UI in headless Chromium: log in, add a demo-shop product, see its price and chart.

Runs against pytest-django's live server with Celery eager, so the first check happens inside
the request, against the demo shop on 127.0.0.1. Screenshots (desktop and phone) go to
`UI_SCREENSHOT_DIR` when it is set, else to the test's tmp folder.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.money import money_format

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SLUG = "aurora-espresso-machine"
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed at /usr/bin/chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made from the
    # test between browser steps are still synchronous and safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def eager(settings):
    from config.celery import app

    # Read before the settings change: Celery's conf may load them lazily on this first read,
    # and keeping True here left every later test of the run eager (the import page's
    # progress test then found its import done before the page showed it).
    previous = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    settings.FETCH_RESPECT_ROBOTS = False
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def person(transactional_db, django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return django_user_model.objects.create_user(username="carol", password="pw-carol-123")


@pytest.fixture
def screenshots(tmp_path) -> Path:
    folder = Path(os.environ.get("UI_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _log_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url  # the dashboard needs a login
    page.fill("#id_username", "carol")
    page.fill("#id_password", "pw-carol-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/", timeout=TIMEOUT_MS)


def test_add_a_product_and_see_its_price_and_chart(browser, live_server, person, demo_shop, eager, screenshots):
    from tracker.models import Listing

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    # A blocked asset (CSP), a missing file or a script error shows up as a console error
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    try:
        _log_in(page, live_server)

        # Bad input first: a clear error, nothing created
        page.fill("#id_url", "ftp://127.0.0.1/espresso")
        page.click(".add-form button[type=submit]")
        assert "only http:// and https://" in page.inner_text(".add-product")
        assert not Listing.objects.exists()
        console_errors.clear()  # the refused form answered 400 on purpose

        before = datetime.now(UTC)
        page.fill("#id_url", demo_shop.product_url(SLUG))
        page.select_option("#id_priority", "high")
        page.click(".add-form button[type=submit]")
        page.wait_for_url(re.compile(r"/products/\d+/$"))
        after = datetime.now(UTC)

        listing = Listing.objects.get(product__owner=person)
        assert listing.status == Listing.Status.OK, listing.status_reason
        from demoshop.catalogue import price_at

        assert listing.last_price in {price_at(SLUG, before), price_at(SLUG, after)}
        price_text = money_format(amount=listing.last_price, currency=listing.currency)
        assert price_text in page.inner_text(".listing .current-price")
        assert page.locator(".listing .chart-box .wide svg circle").count() == 1

        # A second check draws a line through two points
        page.click(".listing-actions button:has-text('Check now')")
        page.wait_for_load_state()
        assert page.locator(".listing .chart-box .wide svg path.series").count() == 1
        # History stores changes: the second check either confirmed the price (one point, two
        # confirmations) or found the shop's next price (two points).
        assert sum(listing.prices.values_list("confirmations", flat=True)) == 2
        page.screenshot(path=str(screenshots / "product-desktop.png"), full_page=True)

        page.goto(f"{live_server.url}/")
        row = page.locator("tr.product-row")
        assert row.count() == 1
        assert price_text in row.inner_text()
        assert row.locator("svg.sparkline path").count() == 1
        page.screenshot(path=str(screenshots / "dashboard-desktop.png"), full_page=True)
        assert console_errors == []
    finally:
        context.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = phone.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        _log_in(page, live_server)
        # Nothing is wider than the phone's screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(screenshots / "dashboard-phone.png"), full_page=True)
        page.click("tr.product-row a")
        page.wait_for_url(re.compile(r"/products/\d+/$"))
        # (a flat line has an empty box, which Playwright counts as invisible: check its chart)
        assert page.locator(".listing .chart-box .narrow svg").is_visible()
        assert page.locator(".listing .chart-box .narrow svg path.series").count() == 1
        assert not page.locator(".listing .chart-box .wide svg").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(screenshots / "product-phone.png"), full_page=True)
    finally:
        phone.close()


def test_the_product_page_shows_progress_and_refreshes_when_the_check_finishes(
    browser, live_server, person, demo_shop, settings
):
    from tracker import checking, services
    from tracker.models import CheckLog

    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    settings.FETCH_RESPECT_ROBOTS = False
    # Queued but not run: no worker here, the test plays the worker below.
    listing = services.listing_add(owner=person, url=demo_shop.product_url("fjord-wool-blanket"))
    check = checking.check_create(listing=listing)

    context = browser.new_context(viewport={"width": 1024, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    try:
        _log_in(page, live_server)
        page.goto(f"{live_server.url}{listing.product.get_absolute_url()}")
        assert "Checking" in page.inner_text(".check-progress")

        checking.listing_check(check_id=check.pk)
        assert CheckLog.objects.get(pk=check.pk).outcome == CheckLog.Outcome.OK

        # status.js sees the finished check and reloads: the price replaces the progress note
        page.wait_for_selector(".listing .chart-box .wide svg circle", timeout=TIMEOUT_MS)
        assert page.locator(".check-progress").count() == 0
        listing.refresh_from_db()
        assert money_format(amount=listing.last_price, currency=listing.currency) in page.inner_text(".listing .current-price")
        assert console_errors == []
    finally:
        context.close()

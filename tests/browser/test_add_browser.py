"""Adding pages in headless Chromium: the refusal and its choices, an over-long address,
the bookmarklet from the Settings page, and a phone's share target.

Celery is eager and the demo shop runs on 127.0.0.1, so the first check happens inside the
request, as it does for a person.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from .test_ui_browser import (  # noqa: F401 - fixtures
    CHROMIUM,
    SLUG,
    TIMEOUT_MS,
    _log_in,
    browser,
    eager,
    person,
    screenshots,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed at /usr/bin/chromium"),
]


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    yield tab
    context.close()


def test_a_page_without_a_price_is_refused_with_discard_first_and_keep_trying_kept(
    page, live_server, person, demo_shop, eager, screenshots  # noqa: F811
):
    from tracker.models import Listing, Product

    _log_in(page, live_server)
    page.fill("#id_url", f"{demo_shop.url}/info/shipping")
    page.click(".add-form button[type=submit]")

    assert "This page was not added" in page.inner_text("h1")
    assert "shows no price we can read" in page.inner_text(".reason-box")
    assert page.evaluate("document.activeElement.textContent") == "Discard"  # the default choice
    assert not page.locator(".tech-details p").is_visible()  # the detail waits behind its toggle
    page.click(".tech-details summary")
    assert "No price found" in page.inner_text(".tech-details p")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.screenshot(path=str(screenshots / "refused-phone.png"), full_page=True)
    assert Product.objects.count() == 0

    page.click("button.keep")
    page.wait_for_url(re.compile(r"/products/\d+/$"))
    listing = Listing.objects.get(product__owner=person)
    assert listing.status == Listing.Status.NO_PRICE
    assert "keeps checking" in page.inner_text(".msg")


def test_discard_leaves_nothing(page, live_server, person, demo_shop, eager):  # noqa: F811
    from tracker.models import Product, Store

    _log_in(page, live_server)
    page.fill("#id_url", f"{demo_shop.url}/downloads/price-list.pdf")
    page.click(".add-form button[type=submit]")
    assert "a file (a PDF" in page.inner_text(".reason-box")
    page.keyboard.press("Enter")  # the focused choice: discard
    page.wait_for_url(f"{live_server.url}/")
    assert Product.objects.count() == 0 and Store.objects.count() == 0


def test_an_over_long_pasted_address_is_refused_not_cut(page, live_server, person, demo_shop, eager):  # noqa: F811
    from tracker.models import Listing

    _log_in(page, live_server)
    long_url = demo_shop.product_url(SLUG) + "?ref=" + "a" * 5000
    page.fill("#id_url", long_url)
    assert len(page.input_value("#id_url")) == len(long_url)  # the field kept all of it
    page.click(".add-form button[type=submit]")
    assert "at most 2,000 can be tracked" in page.inner_text("#url-error")
    assert not Listing.objects.exists()


def test_the_bookmarklet_on_the_settings_page_opens_the_add_form_filled_in(
    page, live_server, person, demo_shop, eager, screenshots  # noqa: F811
):
    from tracker.models import Listing

    _log_in(page, live_server)
    page.click("header.top nav a:has-text('Settings')")
    page.screenshot(path=str(screenshots / "settings-phone.png"), full_page=True)
    bookmarklet = page.get_attribute("a.bookmarklet", "href")
    assert bookmarklet.startswith("javascript:")

    product_url = demo_shop.product_url(SLUG)
    page.goto(product_url)
    page.evaluate(bookmarklet.removeprefix("javascript:"))  # what clicking the bookmark runs
    page.wait_for_url(re.compile(r"/add\?url="))
    assert page.input_value("#id_url") == product_url
    page.click(".add-form button[type=submit]")
    page.wait_for_url(re.compile(r"/products/\d+/$"))
    assert Listing.objects.get(product__owner=person).status == Listing.Status.OK


def test_a_share_from_a_phone_with_the_address_in_its_text(page, live_server, person, demo_shop, eager):  # noqa: F811
    from tracker.models import Listing

    manifest = page.request.get(f"{live_server.url}/manifest.webmanifest").json()
    action = manifest["share_target"]["action"]
    product_url = demo_shop.product_url(SLUG)
    shared = f"{live_server.url}{action}?title=Espresso&text=" + quote(f"Look at this: {product_url}")
    page.goto(shared)  # not logged in yet: the login comes first and leads back
    page.fill("#id_username", "carol")
    page.fill("#id_password", "pw-carol-123")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/add\?"))
    assert page.input_value("#id_url") == product_url
    page.click(".add-form button[type=submit]")
    page.wait_for_url(re.compile(r"/products/\d+/$"))
    assert Listing.objects.get(product__owner=person).url == product_url

"""Picking the price by clicking it on the sandboxed rendering of a listing's page, in Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tracker.shop_pages import shop_page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed at /usr/bin/chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def test_clicking_the_price_in_the_sandboxed_page_then_saving_makes_the_store_pattern(
    live_server, transactional_db, django_user_model, client, settings
):
    from tracker.models import ExtractionPattern, Listing, ListingPage, Product, Store

    user = django_user_model.objects.create_user(username="dana", password="pw-dana-123")
    store = Store.objects.create(domain="shop.test")
    product = Product.objects.create(owner=user, name="Alder Desk Chair")
    listings = [Listing.objects.create(product=product, store=store, url=f"https://shop.test/p/{i}") for i in range(2)]
    for i, listing in enumerate(listings):
        ListingPage.objects.create(listing=listing, url=listing.url, html=shop_page(i, theme="v2"))
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context()
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{live_server.url}/listings/{listings[0].pk}/extraction/")
            frame = page.frame_locator("iframe")
            frame.locator("a.pricetracker-pick", has_text="$149.00").click()
            page.wait_for_url("**pick=**")
            results = page.locator("table.tested").inner_text()
            assert "149.00" in results and "89.50" in results
            page.locator("form", has=page.locator("input[name=selector]:not([type=radio])")).locator(
                "button[value=save]"
            ).click()
            page.wait_for_load_state()
            assert "Saved as" in page.content()
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    pattern = ExtractionPattern.objects.get(status="active")
    assert pattern.source == "person" and "pdp__amount" in pattern.spec["price"]["selector"]

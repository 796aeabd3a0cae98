"""The demo shop's deal feed and what `manage.py demo` gives the deal scout: a source and a
sample watch that show scored deals, with the scam and the accessory left out, after one scan."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from deals.models import DealMatch, DealSource, Watch
from deals.scout import feeds
from demoshop.catalogue import PRODUCTS, in_stock_at, price_at
from demoshop.deals_feed import POISONED, deals_feed
from demoshop.management.commands.demo import SAMPLE_WATCH_PRODUCT
from demoshop.server import start_in_thread

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def test_the_feed_lists_every_current_offer_with_reposts_sellers_and_a_few_suspicious_ones():
    items = feeds.parse_rss(deals_feed(base_url="http://127.0.0.1:8001", now=NOW), base_url="http://127.0.0.1:8001/")
    assert len(items) == 5 * len(PRODUCTS) + 2 * POISONED
    by_id = {item.external_id: item for item in items}
    for product in PRODUCTS:
        shop = by_id[f"shop-{product.slug}"]
        assert shop.price == price_at(product.slug, NOW) and shop.currency == product.currency
        assert shop.in_stock is in_stock_at(product.slug, NOW)
        assert by_id[f"repost-{product.slug}"].price == shop.price
        assert by_id[f"used-{product.slug}"].condition == "used"
    assert sum(1 for item in items if item.external_id.startswith(("scam-", "accessory-"))) == 2 * POISONED


@pytest.fixture(scope="module")
def shop():
    with start_in_thread(clock=lambda: NOW) as running:
        yield running


@pytest.mark.django_db(transaction=True)
def test_demo_gives_the_scout_a_source_and_a_watch_that_show_scored_deals(shop, settings, django_user_model, client):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    settings.DEMO_SHOP_URL = shop.url
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    admin = django_user_model.objects.create_user("admin", password="x")
    call_command("demo", user="admin", stdout=StringIO())
    call_command("demo", user="admin", stdout=StringIO())  # again: nothing doubled
    source = DealSource.objects.get()
    watch = Watch.objects.get()
    assert source.owner == admin and source.url == f"{shop.url}/deals/feed.xml"
    assert watch.owner == admin and watch.product is not None  # its price history counts too

    out = StringIO()
    call_command("scan_source", str(source.pk), stdout=out)
    assert source.name in out.getvalue()
    matches = {m.listing.external_id: m for m in DealMatch.objects.filter(watch=watch).select_related("listing")}
    slug = SAMPLE_WATCH_PRODUCT
    assert matches[f"scam-{slug}"].suspicious and matches[f"accessory-{slug}"].suspicious
    real = [m for key, m in matches.items() if not key.startswith(("scam-", "accessory-"))]
    assert real and not any(m.suspicious for m in real)
    assert all(m.comparable_count >= 3 and m.confidence > 0 for m in real)
    assert max(m.score for m in real) >= 20  # the used one at 75 % of the usual price at least
    snapshot = Watch.objects.get(pk=watch.pk).comparables
    [shop_offer] = [item for item in snapshot["items"] if len(item["listings"]) == 2]  # the repost counts once
    assert set(shop_offer["listings"]) == {matches[f"shop-{slug}"].listing_id, matches[f"repost-{slug}"].listing_id}

    client.force_login(admin)
    page = client.get(reverse("scout:deals")).content.decode()
    assert "Aurora Pro Espresso Machine (used, good condition)" in page and "Comparables used" in page
    assert "accessory, wrong item or scam" in page

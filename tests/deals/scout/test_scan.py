import threading
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.utils import timezone

from deals.models import DealListing, DealMatch, DealSource, Watch
from deals.scout import comparables, match, reconcile, scan
from tracker.models import Listing, PricePoint, Product, Store

from .feeds_data import ATOM, HTML_PAGE_1, HTML_PAGE_2, HTML_PATTERN, JSON_FEED, RSS

pytestmark = pytest.mark.django_db


def _source(url, kind="feed", owner=None, **extra):
    return DealSource.objects.create(name=f"{kind} source", kind=kind, url=url, owner=owner, **extra)


def test_a_scan_of_an_rss_feed_creates_one_listing_per_item_even_when_the_feed_repeats_them(feed_server, user):
    url = feed_server.serve("/rss", RSS, "application/rss+xml")
    source = _source(url)
    report = scan.source_scan(source=source)
    assert report.ok, report.error
    assert report.items == 3 and report.new == 3
    assert DealListing.objects.filter(source=source).count() == 3
    source.refresh_from_db()
    assert source.last_status == "ok" and source.last_item_count == 3


def test_atom_and_json_feeds_are_scanned(feed_server):
    atom = _source(feed_server.serve("/atom", ATOM, "application/atom+xml"))
    json_source = _source(feed_server.serve("/feed.json", JSON_FEED, "application/feed+json"), kind="json")
    assert scan.source_scan(source=atom).items == 2
    assert scan.source_scan(source=json_source).items == 3
    assert DealListing.objects.get(source=json_source, external_id="j2").price == D("489.00")


def test_html_listing_pages_are_followed_to_the_next_page_without_looping(feed_server):
    feed_server.serve("/list", HTML_PAGE_1)
    feed_server.serve("/list?page=2", HTML_PAGE_2)
    feed_server.routes["/list?page=1"] = feed_server.routes["/list"]
    source = _source(feed_server.url + "/list", kind="html", item_pattern=HTML_PATTERN, max_pages=5)
    report = scan.source_scan(source=source)
    assert report.ok, report.error
    assert sorted(DealListing.objects.values_list("external_id", flat=True)) == ["h1", "h2", "h3"]
    assert report.pages <= 3


def test_a_price_change_updates_the_listing_and_keeps_the_old_price(feed_server):
    source = _source(feed_server.serve("/rss", RSS, "application/rss+xml"))
    scan.source_scan(source=source)
    feed_server.serve("/rss", RSS.replace("$499.99", "$459.00"), "application/rss+xml")
    report = scan.source_scan(source=source)
    assert report.new == 0 and report.price_changes == 1
    listing = DealListing.objects.get(external_id="deal-1001")
    assert listing.price == D("459.00") and listing.previous_price == D("499.99")
    assert listing.price_changed_at is not None


def test_items_that_vanish_are_marked_gone_with_how_long_they_lasted(feed_server):
    source = _source(feed_server.serve("/feed.json", JSON_FEED, "application/json"), kind="json")
    start = timezone.now() - timedelta(hours=5)
    scan.source_scan(source=source, now=start)
    feed_server.serve("/feed.json", JSON_FEED.replace('"id": "j3"', '"id": "j3-gone-now"').replace("j/3", "j/9"), "application/json")
    later = start + timedelta(hours=3)
    scan.source_scan(source=source, now=later)
    gone = reconcile.listings_reconcile(now=later + timedelta(minutes=1))
    assert gone == 1
    j3 = DealListing.objects.get(external_id="j3")
    assert j3.status == DealListing.Status.GONE
    assert j3.lasted == timedelta(0)  # seen in one scan only
    assert DealListing.objects.get(external_id="j1").status == DealListing.Status.ACTIVE
    assert reconcile.listings_reconcile(now=later + timedelta(minutes=2)) == 0  # safe to run twice


def test_an_unreachable_or_malformed_source_is_marked_with_the_error_and_nothing_is_lost(feed_server):
    source = _source(feed_server.serve("/rss", RSS, "application/rss+xml"))
    scan.source_scan(source=source)
    feed_server.serve("/rss", "<html><body>Maintenance</body>", "application/rss+xml")
    report = scan.source_scan(source=source)
    assert not report.ok and "feed" in report.error
    source.refresh_from_db()
    assert source.last_status == "error" and source.last_error
    assert DealListing.objects.filter(source=source).count() == 3
    missing = _source(feed_server.url + "/nope")
    report = scan.source_scan(source=missing)
    assert not report.ok and "404" in report.error


def test_watches_match_and_score_against_the_linked_products_history(feed_server, user):
    store = Store.objects.create(domain="shop.test")
    product = Product.objects.create(owner=user, name="RTX 4070")
    listing = Listing.objects.create(product=product, store=store, url="http://shop.test/p/1")
    for price in ("599.00", "619.00", "609.00", "599.00"):
        PricePoint.objects.create(listing=listing, price=D(price), currency="USD", method="json-ld")
    watch = Watch.objects.create(owner=user, query="rtx 4070 -laptop", product=product)
    source = _source(feed_server.serve("/rss", RSS, "application/rss+xml"))
    report = scan.source_scan(source=source)
    matched = {m.listing.external_id: m for m in report.matches}
    assert set(matched) == {"deal-1001"}  # the laptop is excluded, the headphones don't match
    match = matched["deal-1001"]
    assert match.comparable_price == D("604.00") and match.comparable_count == 4
    assert match.score == 17  # 499.99 is 17 % below 604
    assert 0 < match.confidence < 0.9
    assert "4 comparable prices" in match.reason
    assert watch.matches.count() == 1


def test_price_ceiling_and_condition_filter_matches(feed_server, user):
    Watch.objects.create(owner=user, query="rtx 4070", max_price=D("500"), condition=Watch.Condition.NEW)
    source = _source(feed_server.serve("/feed.json", JSON_FEED, "application/json"), kind="json")
    report = scan.source_scan(source=source)
    # j1 is 519 (over the ceiling), j2 has no stated condition, j3 is an accessory at 12.99 without condition
    assert {m.listing.external_id for m in report.matches} == set()
    Watch.objects.create(owner=user, query="rtx 4070 -shroud", max_price=D("500"))
    DealListing.objects.all().delete()
    report = scan.source_scan(source=source)
    assert {m.listing.external_id for m in report.matches} == {"j2"}


def test_a_listing_far_below_its_comparables_is_flagged_suspicious_not_celebrated(feed_server, user):
    watch = Watch.objects.create(owner=user, query="rtx 4070")
    source = _source(feed_server.serve("/feed.json", JSON_FEED, "application/json"), kind="json")
    report = scan.source_scan(source=source)
    shroud = next(m for m in report.matches if m.listing.external_id == "j3")
    assert shroud.suspicious and shroud.score == 0
    assert not match.match_should_notify(shroud)
    comparables.comps_refresh()
    assert DealMatch.objects.get(watch=watch, listing__external_id="j3").suspicious


def test_only_due_sources_are_claimed_and_each_only_once(user):
    now = timezone.now()
    due = _source("http://127.0.0.1:9/a", next_scan_at=now - timedelta(minutes=1))
    _source("http://127.0.0.1:9/b", next_scan_at=now + timedelta(minutes=10))
    _source("http://127.0.0.1:9/c", next_scan_at=now - timedelta(minutes=1), enabled=False)
    assert scan.sources_claim_due(now=now) == [due.pk]
    assert scan.sources_claim_due(now=now) == []
    due.refresh_from_db()
    assert due.next_scan_at == now + timedelta(minutes=30)


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_create_no_duplicate_listings_or_matches(feed_server, user):
    Watch.objects.create(owner=user, query="rtx 4070")
    source = _source(feed_server.serve("/feed.json", JSON_FEED, "application/json"), kind="json")
    errors = []

    def scan_once():
        try:
            scan.source_scan(source=DealSource.objects.get(pk=source.pk))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan_once) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert DealListing.objects.filter(source=source).count() == 3
    assert DealMatch.objects.count() == 3
    claimed = [match.match_claim_notification(match_id=m.pk) for m in DealMatch.objects.all() for _ in range(2)]
    assert claimed.count(True) == 3


def test_comps_refresh_recomputes_scores_without_counting_a_listing_against_itself(feed_server, user):
    watch = Watch.objects.create(owner=user, query="rtx 4070")
    source = _source(feed_server.serve("/feed.json", JSON_FEED, "application/json"), kind="json")
    scan.source_scan(source=source)
    assert comparables.comps_refresh() == 3
    j1 = DealMatch.objects.get(watch=watch, listing__external_id="j1")
    # j1's comparables: j2 (489) only — j3 is suspicious and j1 itself is left out
    assert j1.comparable_count == 1 and j1.comparable_price == D("489.00")
    assert j1.score == 0

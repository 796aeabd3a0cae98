"""Read-side queries of the web UI."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tracker import history, selectors
from tracker.models import CheckLog, Listing, PricePoint, Product, Store

pytestmark = pytest.mark.django_db


def _listing(owner, prices, *, domain="shop.test", product=None, status=Listing.Status.OK):
    product = product or Product.objects.create(owner=owner, name="Kettle")
    listing = Listing.objects.create(
        product=product, store=Store.objects.get_or_create(domain=domain)[0],
        url=f"https://{domain}/kettle", currency="EUR", status=status,
    )
    start = timezone.now() - timedelta(hours=len(prices))
    times = []
    for i, price in enumerate(prices):
        moment = start + timedelta(hours=i)
        PricePoint.objects.create(listing=listing, price=Decimal(price), currency="EUR", checked_at=moment, method="json-ld")
        times.append(moment)
    if prices:
        Listing.objects.filter(pk=listing.pk).update(last_price=Decimal(prices[-1]))
        # History written here, not by checks: its summary is computed as a migration does.
        history.listing_summary_rebuild(listing_model=Listing, point_model=PricePoint, listing_ids=[listing.pk])
    listing.refresh_from_db()
    return listing, times


def test_the_trend_keeps_only_price_changes_and_the_latest_check(user):
    listing, times = _listing(user, ["10", "10", "12", "12", "12", "9", "9"])
    [row] = selectors.product_summaries(owner=user)
    assert row.trend == [
        (times[0], Decimal("10")), (times[2], Decimal("12")), (times[5], Decimal("9")), (times[6], Decimal("9"))
    ]
    assert (row.price, row.previous_price, row.lowest_seen) == (Decimal("9"), Decimal("12"), Decimal("9"))
    assert row.change == Decimal("-3") and row.change_pct == Decimal("-25.0")
    assert row.previous_price_at == times[4]


def test_the_current_price_is_the_lowest_trusted_one_across_stores(user):
    first, _ = _listing(user, ["50"])
    _listing(user, ["40"], domain="other.test", product=first.product)
    _listing(user, ["10"], domain="doubtful.test", product=first.product, status=Listing.Status.FLAGGED)
    [row] = selectors.product_summaries(owner=user)
    assert (row.price, row.current.store.domain) == (Decimal("40"), "other.test")
    assert row.status == Listing.Status.FLAGGED and "doubtful.test" in row.status_reason


def test_a_queued_check_shows_as_checking_and_in_the_status(user):
    listing, _ = _listing(user, [])
    CheckLog.objects.create(listing=listing)
    [row] = selectors.product_summaries(owner=user)
    assert row.checking and row.price is None and row.trend == []
    assert selectors.listing_status(listing=listing)["checking"] is True


def test_the_status_of_a_row_of_folded_routine_checks_says_when_the_latest_of_them_finished(user):
    listing, _ = _listing(user, [10])
    first, latest = timezone.now() - timedelta(minutes=45), timezone.now() - timedelta(minutes=1)
    CheckLog.objects.create(listing=listing, outcome=CheckLog.Outcome.OK, finished_at=first, until=latest, checks=3)
    assert selectors.listing_status(listing=listing)["check"]["finished_at"] == latest.isoformat()


def test_stats_over_a_period():
    stats = selectors.listing_stats(
        [(None, Decimal("100")), (None, Decimal("80")), (None, Decimal("120"))], current=Decimal("90")
    )
    assert (stats.lowest, stats.highest, stats.first, stats.change_pct) == (
        Decimal("80"), Decimal("120"), Decimal("100"), Decimal("-10.0")
    )
    empty = selectors.listing_stats([], current=None)
    assert empty.lowest is None and empty.change_pct is None


def test_the_dashboard_reads_the_listings_summaries_not_their_price_history(user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(3):
        _listing(user, ["10", "12", "9"], domain=f"shop{n}.test")
    with CaptureQueriesContext(connection) as queries:
        rows = selectors.product_summaries(owner=user)
    assert [row.lowest_seen for row in rows] == [Decimal("9")] * 3
    assert not [q["sql"] for q in queries.captured_queries if PricePoint._meta.db_table in q["sql"]]


def _plans(statements: list[tuple[str, tuple]]) -> str:
    """SQLite's plans of statements as they were sent: SQL with its bound parameters (the SQL
    Django records for a test writes the parameters in as literals, which plans differently)."""
    from django.db import connection

    with connection.cursor() as cursor:
        return "\n".join(str(cursor.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()) for sql, params in statements)


def test_checks_under_way_are_found_through_the_partial_index_not_by_scanning_the_check_log(user):
    """The dashboard's "checking" flags and the dispatcher's stale finder (every minute) read the
    few checks queued or running. SQLite uses the partial index `checklog_active` only when the
    query's text states its condition; with the outcomes sent as bound parameters it scanned
    every listing's check log (measured: 90 ms on a dashboard page of 1,000 x 2,880)."""
    from django.db import connection

    from tracker import scheduling

    if connection.vendor != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL inlines the outcomes and plans by statistics")
    listings = [_listing(user, [10, 11], domain=f"shop{n}.test")[0] for n in range(3)]
    CheckLog.objects.create(listing=listings[0])
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        rows = selectors.product_summaries(owner=user)
        scheduling.checks_find_stale()
    assert sorted(row.checking for row in rows) == [False, False, True]
    under_way = [(sql, params) for sql, params in sent if 'FROM "tracker_checklog"' in sql]
    assert len(under_way) == 2, under_way
    plans = _plans(under_way)
    assert plans.count("USING INDEX checklog_active") == 2, plans

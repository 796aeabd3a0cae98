"""Checks run for real: the dispatcher and checks go through the broker to a worker process."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from tracker import checking
from tracker.models import CheckLog, Listing, PricePoint
from tracker.tasks import check_listing, check_now, dispatch_due_checks

from .shop import listing_due
from .workers import wait_until

pytestmark = pytest.mark.integration


def price_history(listing: Listing) -> list[Decimal]:
    return list(listing.prices.order_by("checked_at", "id").values_list("price", flat=True))


def test_due_listings_are_checked_by_the_worker_and_their_prices_recorded(
    transactional_db, live_worker, shop, owner
):
    listings = [
        listing_due(owner=owner, shop=shop, slug="kettle", price="1299.99", priority="high"),
        listing_due(owner=owner, shop=shop, slug="toaster", price="49.50", priority="normal"),
        listing_due(owner=owner, shop=shop, slug="mixer", price="5.00", priority="low"),
    ]

    dispatch_due_checks.delay()

    wait_until(
        lambda: PricePoint.objects.filter(listing__in=listings).count() == 3,
        timeout=30,
        what="a price point for each listing",
    )
    for listing in listings:
        listing.refresh_from_db()
        slug = listing.url.rsplit("/", 1)[1]
        point = listing.prices.get()
        assert (point.price, point.currency, point.in_stock) == (shop.prices[slug], "EUR", True)
        assert point.method
        assert point.check_log.outcome == CheckLog.Outcome.OK
        assert point.check_log.http_status == 200
        assert listing.status == Listing.Status.OK
        assert listing.last_price == shop.prices[slug]
        assert listing.title == f"Product {slug}"
        assert listing.next_check_at > timezone.now(), "the next check is scheduled in the future"


def test_a_price_change_adds_a_second_point_to_the_history(transactional_db, live_worker, shop, owner):
    listing = listing_due(owner=owner, shop=shop, slug="lamp", price="20.00")
    check_now(listing=listing)
    wait_until(lambda: listing.prices.count() == 1, timeout=30, what="the first price")

    shop.prices["lamp"] = Decimal("17.49")
    check_now(listing=listing)
    wait_until(lambda: listing.prices.count() == 2, timeout=30, what="the second price")

    assert price_history(listing) == [Decimal("20.00"), Decimal("17.49")]
    listing.refresh_from_db()
    assert listing.last_price == Decimal("17.49")


def test_a_redelivered_check_adds_no_second_price_point(transactional_db, live_worker, shop, owner):
    listing = listing_due(owner=owner, shop=shop, slug="radio", price="89.00")
    check = checking.check_create(listing=listing)

    sent = [
        check_listing.apply_async(args=[listing.pk, check.pk], queue="checks_normal").id for _ in range(3)
    ]

    for task_id in sent:
        live_worker.wait_for_log(f"check_listing[{task_id}] succeeded", timeout=30)
    assert price_history(listing) == [Decimal("89.00")]
    assert shop.served("radio") == 1, "the duplicates did not fetch the page again"
    check.refresh_from_db()
    assert (check.outcome, check.attempts) == (CheckLog.Outcome.OK, 1)


def _sessions_opened() -> int:
    """PostgreSQL's count of sessions ever opened on this database (`pg_stat_database`)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_the_worker_keeps_its_database_connections_between_checks(transactional_db, live_worker, shop, owner):
    """A new PostgreSQL connection per task forks a server process each time: the worker's
    connections must outlive their tasks, as Django's do between requests."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL sessions")
    listings = [listing_due(owner=owner, shop=shop, slug=f"cup-{i}", price="3.00") for i in range(3)]
    for listing in listings:  # the pool processes connect once
        check_now(listing=listing)
    wait_until(lambda: PricePoint.objects.filter(listing__in=listings).count() == 3, timeout=60, what="warm-up")
    before = _sessions_opened()

    for _ in range(4):
        for listing in listings:
            check_now(listing=listing)
    # History stores changes: the same price again confirms its point instead of adding one.
    wait_until(
        lambda: sum(PricePoint.objects.filter(listing__in=listings).values_list("confirmations", flat=True)) == 15,
        timeout=60, what="12 checks",
    )

    opened = _sessions_opened() - before
    assert opened <= 2, f"{opened} new database sessions for 12 checks on a worker with 2 processes"

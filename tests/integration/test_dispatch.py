"""The dispatcher: due listings are claimed once and their checks routed by priority."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tracker import scheduling
from tracker.models import CheckLog, PricePoint
from tracker.tasks import dispatch_due_checks

from .shop import listing_due
from .workers import wait_until

pytestmark = pytest.mark.integration


def test_high_priority_checks_go_to_their_own_queue(transactional_db, start_worker, broker_purge, shop, owner):
    urgent = listing_due(owner=owner, shop=shop, slug="phone", price="399.00", priority="high")
    routine = listing_due(owner=owner, shop=shop, slug="cable", price="9.99", priority="low")
    only_high = start_worker(queues=("checks_high", "default"))

    dispatch_due_checks.delay()

    wait_until(lambda: urgent.prices.exists(), timeout=30, what="the high-priority check")
    only_high.wait_for_log("dispatch_due_checks[", timeout=10)
    assert routine.checks.get().outcome == CheckLog.Outcome.QUEUED, "the low check waits in checks_low"
    assert not routine.prices.exists()
    assert shop.served("cable") == 0


def test_two_dispatchers_at_once_check_each_listing_once(transactional_db, start_worker, shop, owner):
    listings = [listing_due(owner=owner, shop=shop, slug=f"item-{i}", price=f"{10 + i}.00") for i in range(40)]
    start_worker(concurrency=2)

    dispatch_due_checks.delay()
    dispatch_due_checks.delay()

    wait_until(
        lambda: PricePoint.objects.count() == 40, timeout=60, what="a price point for each of 40 listings"
    )
    for listing in listings:
        assert listing.checks.count() == 1
        assert listing.prices.count() == 1
    assert all(shop.served(f"item-{i}") == 1 for i in range(40))


def test_concurrent_claims_never_claim_a_listing_twice(transactional_db, shop, owner):
    ids = {listing_due(owner=owner, shop=shop, slug=f"c-{i}", price="1.00").pk for i in range(60)}
    barrier = threading.Barrier(3, timeout=10)
    claims: list[list[scheduling.ClaimedCheck]] = []
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            barrier.wait()
            claims.append(scheduling.checks_claim_due())
        except BaseException as exc:  # reported in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    claimed = [item.listing_id for batch in claims for item in batch]
    assert sorted(claimed) == sorted(ids), "every due listing claimed exactly once"
    assert CheckLog.objects.count() == 60

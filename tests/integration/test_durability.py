"""Nothing is lost and nothing is recorded twice when workers die or write at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from tracker.models import CheckLog, Listing, PricePoint
from tracker.tasks import dispatch_due_checks

from .shop import listing_due
from .workers import ROOT, process_env, wait_until

pytestmark = pytest.mark.integration

needs_redis = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis"), reason="worker-loss redelivery is tested on Redis"
)

# A lost check is redelivered after the visibility timeout, or queued again by the dispatcher
# once it is older than CHECK_STALE_AFTER; both are seconds here instead of minutes.
RECOVERY_ENV = {"CELERY_VISIBILITY_TIMEOUT": "5", "CHECK_STALE_AFTER": "3"}


def listings_due(count: int, *, owner, shop) -> list[Listing]:
    return [listing_due(owner=owner, shop=shop, slug=f"p{i}", price=f"{100 + i}.00") for i in range(count)]


def wait_for_every_listing_checked(count: int, *, timeout: float) -> None:
    """Run the dispatcher now and then (it re-queues lost checks) until every listing has a price."""
    deadline = time.monotonic() + timeout
    while PricePoint.objects.values("listing").distinct().count() < count:
        if time.monotonic() > deadline:
            left = CheckLog.objects.exclude(outcome=CheckLog.Outcome.OK).values_list("outcome", flat=True)
            raise AssertionError(f"not every listing was checked; unfinished checks: {list(left)[:20]}")
        dispatch_due_checks.delay()
        time.sleep(2)


def assert_each_listing_has_exactly_one_price(listings: list[Listing], shop) -> None:
    per_listing = dict(PricePoint.objects.values_list("listing").annotate(n=Count("id")))
    assert set(per_listing) == {listing.pk for listing in listings}, "every listing was checked"
    assert set(per_listing.values()) == {1}, "no price point is duplicated"
    for listing in listings[:: max(1, len(listings) // 20)]:
        assert listing.prices.get().price == shop.prices[listing.url.rsplit("/", 1)[1]]


def checks_under_way(*, start_worker, shop, owner) -> tuple[list[Listing], object]:
    """200 due listings dispatched to a 4-process worker, which has recorded 30 of them."""
    shop.delay = 0.02
    listings = listings_due(200, owner=owner, shop=shop)
    worker = start_worker(concurrency=4, env=RECOVERY_ENV)
    dispatch_due_checks.delay()
    wait_until(lambda: PricePoint.objects.count() >= 30, timeout=60, what="the first 30 checks")
    return listings, worker


@needs_redis
def test_killing_a_worker_mid_run_loses_no_check_and_duplicates_no_price(
    transactional_db, start_worker, shop, owner
):
    listings, doomed = checks_under_way(start_worker=start_worker, shop=shop, owner=owner)

    doomed.kill()
    assert PricePoint.objects.count() < 200, "the worker was killed in the middle of the run"
    start_worker(concurrency=4, env=RECOVERY_ENV)
    wait_for_every_listing_checked(200, timeout=120)

    assert_each_listing_has_exactly_one_price(listings, shop)


@needs_redis
def test_killing_a_pool_process_mid_check_loses_no_check_and_duplicates_no_price(
    transactional_db, start_worker, shop, owner
):
    listings, worker = checks_under_way(start_worker=start_worker, shop=shop, owner=owner)

    children = worker.children()
    assert children, "the prefork worker has pool processes"
    os.kill(children[0], signal.SIGKILL)
    assert PricePoint.objects.count() < 200, "the pool process was killed in the middle of the run"
    wait_for_every_listing_checked(200, timeout=120)

    assert_each_listing_has_exactly_one_price(listings, shop)
    # The pool's supervisor reports the death when it next reaps its processes: when the killed
    # process was between two checks, the others may finish the run before that.
    wait_until(
        lambda: "exited with 'signal 9 (SIGKILL)'" in worker.log(), timeout=30, what="the worker to report the kill"
    )


WRITER = """
import os, sys, time
import django
from config.bootstrap import bootstrap
bootstrap()
django.setup()
from tracker import checking
ids = [int(i) for i in sys.argv[2].split(",")]
while not os.path.exists(sys.argv[1]):  # start together
    time.sleep(0.005)
for check_id in ids:
    checking.listing_check(check_id=check_id)
print("done", len(ids))
"""


@pytest.mark.skipif(connection.vendor != "sqlite", reason="about SQLite's single writer")
def test_eight_processes_recording_checks_at_once_never_hit_database_is_locked(
    transactional_db, shop, owner, tmp_path
):
    from tracker import checking

    listings = listings_due(120, owner=owner, shop=shop)  # 15 checks a process
    check_ids = [checking.check_create(listing=listing).pk for listing in listings]
    go = tmp_path / "go"
    env = process_env({"DATA_DIR": str(tmp_path / "data")})
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(go), ",".join(map(str, check_ids[n::8]))],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    time.sleep(1.0)  # let every process import Django and reach the start line
    go.touch()
    results = [writer.communicate(timeout=120) for writer in writers]

    for writer, (out, err) in zip(writers, results, strict=True):
        assert "database is locked" not in err
        assert writer.returncode == 0, err[-2000:]
        assert out.strip().splitlines()[-1] == f"done {len(check_ids[0::8])}"
    outcomes = dict(CheckLog.objects.values_list("outcome").annotate(n=Count("id")))
    assert outcomes == {CheckLog.Outcome.OK: 120}
    assert_each_listing_has_exactly_one_price(listings, shop)

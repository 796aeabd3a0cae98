"""Beat: the periodic tasks declared in code are in django-celery-beat, and beat runs them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from .shop import listing_due
from .workers import beat_start, wait_until

pytestmark = pytest.mark.integration


def test_periodic_tasks_from_the_code_are_in_the_beat_tables_after_migrate(db):
    dispatch = PeriodicTask.objects.get(name="dispatch-due-checks")
    assert dispatch.task == "tracker.tasks.dispatch_due_checks"
    assert dispatch.enabled
    assert (dispatch.interval.every, dispatch.interval.period) == (60, "seconds")

    health = PeriodicTask.objects.get(name="check-pattern-health")
    assert (health.crontab.minute, health.crontab.hour) == ("0", "2")
    assert health.interval is None


def test_beat_dispatches_due_listings_to_the_worker(
    transactional_db, start_worker, private_broker, celery_log_dir, shop, owner
):
    listing = listing_due(owner=owner, shop=shop, slug="drill", price="129.00", priority="high")
    # Beat sends a task whose interval has passed since its last run: make the dispatcher due.
    PeriodicTask.objects.filter(name="dispatch-due-checks").update(
        last_run_at=timezone.now() - timedelta(minutes=5)
    )
    start_worker()
    beat = beat_start(broker_env=private_broker, log_dir=celery_log_dir)
    try:
        wait_until(lambda: listing.prices.exists(), timeout=45, what="beat -> dispatcher -> check")
        assert "tracker.tasks.dispatch_due_checks" in beat.log()
    finally:
        beat.stop()
    assert str(listing.prices.get().price) == "129.00"

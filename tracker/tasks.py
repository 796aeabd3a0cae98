"""Celery entry points for tracking. Thin: load by id, call a service, map errors.

This module is the only place in `tracker` that enqueues.
"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from . import scheduling, services
from .models import Listing

CHECK_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": 90,
    "time_limit": 120,
}


@shared_task(name="tracker.tasks.check_listing", **CHECK_TASK_OPTIONS)
def check_listing(listing_id: int, check_id: int | None = None) -> str | None:
    """Check one listing. Idempotent: a redelivered task finds its check already taken."""
    if check_id is None:
        listing = Listing.objects.filter(id=listing_id).first()
        if listing is None:
            return None
        check_id = services.check_create(listing=listing).pk
    outcome = services.listing_check(check_id=check_id)
    return outcome.check.outcome if outcome else None


def enqueue_check(*, listing_id: int, check_id: int, queue: str = "checks_high", countdown: float = 0) -> None:
    """Send a check to the workers once the transaction that created it has committed."""
    transaction.on_commit(
        lambda: check_listing.apply_async(
            args=[listing_id, check_id], queue=queue, countdown=countdown or None
        )
    )


def check_now(*, listing: Listing) -> int:
    """Queue an immediate check of a listing (a person asked); returns the check id."""
    check = services.check_create(listing=listing)
    enqueue_check(listing_id=listing.pk, check_id=check.pk, queue="checks_high")
    return check.pk


@shared_task(name="tracker.tasks.dispatch_due_checks", acks_late=True, soft_time_limit=50, time_limit=60)
def dispatch_due_checks() -> int:
    """Run by beat every minute: claim due listings and fan out their checks.

    Two dispatchers at once are safe: each listing is claimed by a conditional UPDATE.
    """
    claimed = scheduling.checks_claim_due() + scheduling.checks_find_stale()
    for item in claimed:
        check_listing.apply_async(
            args=[item.listing_id, item.check_id],
            queue=item.queue,
            countdown=item.countdown or None,
        )
    return len(claimed)

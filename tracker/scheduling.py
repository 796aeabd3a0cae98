"""When listings are checked: intervals by priority, spread, and claiming due work."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import CheckLog, Listing

QUEUE_FOR_PRIORITY = {"high": "checks_high", "normal": "checks_normal", "low": "checks_low"}


def check_interval(priority: str) -> timedelta:
    return timedelta(seconds=settings.CHECK_INTERVALS.get(priority, settings.CHECK_INTERVALS["normal"]))


def next_check_time(*, priority: str, now: datetime, rng: random.Random | None = None) -> datetime:
    """The next due time: one interval on, moved by a random share of it so checks spread out."""
    interval = check_interval(priority).total_seconds()
    jitter = (rng or random).uniform(-settings.CHECK_JITTER, settings.CHECK_JITTER) * interval
    return now + timedelta(seconds=interval + jitter)


@dataclass(frozen=True)
class ClaimedCheck:
    listing_id: int
    check_id: int
    queue: str
    countdown: float


def checks_claim_due(*, now: datetime | None = None, limit: int | None = None) -> list[ClaimedCheck]:
    """Claim listings that are due and create a queued check for each.

    Safe to run twice at once: each listing is claimed by a conditional UPDATE on its due
    time, so a listing claimed by one dispatcher is not claimed by another. Checks are
    spread over the next minute (`countdown`) so thousands of due listings do not fire in
    the same second; high priority is listed first.
    """
    now = now or timezone.now()
    limit = limit or settings.DISPATCH_BATCH_SIZE
    due = list(
        Listing.objects.filter(paused=False, next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("id", "priority", "next_check_at")[: limit * 2]
    )
    order = {"high": 0, "normal": 1, "low": 2}
    due.sort(key=lambda row: (order.get(row[1], 1), row[2]))
    claimed: list[tuple[int, str]] = []
    for listing_id, priority, due_at in due[:limit]:
        won = Listing.objects.filter(id=listing_id, next_check_at=due_at, paused=False).update(
            next_check_at=next_check_time(priority=priority, now=now)
        )
        if won:
            claimed.append((listing_id, priority))
    if not claimed:
        return []
    with transaction.atomic():
        checks = CheckLog.objects.bulk_create(
            [CheckLog(listing_id=lid, queued_at=now) for lid, _ in claimed]
        )
    spread = settings.DISPATCH_SPREAD_SECONDS / max(len(claimed), 1)
    result = []
    for index, ((listing_id, priority), check) in enumerate(zip(claimed, checks)):
        # bulk_create returns primary keys on PostgreSQL and SQLite.
        countdown = 0.0 if priority == "high" else round(index * spread, 2)
        result.append(ClaimedCheck(listing_id, check.pk, QUEUE_FOR_PRIORITY[priority], countdown))
    return result


def checks_find_stale(*, now: datetime | None = None) -> list[ClaimedCheck]:
    """Checks queued or running for too long (their worker died, their message was lost).

    Each is re-claimed with a conditional UPDATE on its queued time, so two dispatchers do
    not both re-queue it; the check itself stays the same, so it can only record once.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CHECK_STALE_AFTER)
    stale = CheckLog.objects.filter(
        Q(outcome=CheckLog.Outcome.QUEUED, queued_at__lt=cutoff)
        | Q(outcome=CheckLog.Outcome.RUNNING, started_at__lt=cutoff)
    ).values_list("id", "listing_id", "listing__priority", "queued_at")[:1000]
    result = []
    for check_id, listing_id, priority, queued_at in stale:
        won = CheckLog.objects.filter(id=check_id, queued_at=queued_at).update(
            queued_at=now, outcome=CheckLog.Outcome.QUEUED
        )
        if won:
            result.append(ClaimedCheck(listing_id, check_id, QUEUE_FOR_PRIORITY.get(priority, "checks_normal"), 0.0))
    return result

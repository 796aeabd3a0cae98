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

    Safe to run twice at once: the due listings are read and moved on in one transaction that
    holds them (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so a second dispatcher takes other rows
    or none; SQLite's IMMEDIATE transactions let one writer in at a time, and the next one finds
    them no longer due). One UPDATE moves them all, instead of one statement a listing.
    Checks are spread over the next minute (`countdown`) so thousands of due listings do not
    fire in the same second; high priority is listed first.
    """
    now = now or timezone.now()
    limit = limit or settings.DISPATCH_BATCH_SIZE
    order = {"high": 0, "normal": 1, "low": 2}
    with transaction.atomic():
        due = list(
            Listing.objects.select_for_update(skip_locked=True)
            .filter(paused=False, next_check_at__lte=now)
            .order_by("next_check_at")
            .only("id", "priority", "next_check_at")[: limit * 2]
        )
        if not due:
            return []
        due.sort(key=lambda listing: (order.get(listing.priority, 1), listing.next_check_at))
        due = due[:limit]
        for listing in due:
            listing.next_check_at = next_check_time(priority=listing.priority, now=now)
        Listing.objects.bulk_update(due, ["next_check_at"], batch_size=500)
        checks = CheckLog.objects.bulk_create([CheckLog(listing_id=listing.pk, queued_at=now) for listing in due])
    spread = settings.DISPATCH_SPREAD_SECONDS / len(due)
    result = []
    for index, (listing, check) in enumerate(zip(due, checks, strict=True)):
        # bulk_create returns primary keys on PostgreSQL and SQLite.
        countdown = 0.0 if listing.priority == "high" else round(index * spread, 2)
        result.append(ClaimedCheck(listing.pk, check.pk, QUEUE_FOR_PRIORITY[listing.priority], countdown))
    return _browser_queue(result)


def checks_find_stale(*, now: datetime | None = None) -> list[ClaimedCheck]:
    """Checks queued or running for too long (their worker died, their message was lost).

    Each is re-claimed with a conditional UPDATE on its queued time, so two dispatchers do
    not both re-queue it; the check itself stays the same, so it can only record once.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CHECK_STALE_AFTER)
    stale = CheckLog.objects.active().filter(
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
    return _browser_queue(result)


BROWSER_QUEUE = "browser"


def _browser_queue(claimed: list[ClaimedCheck]) -> list[ClaimedCheck]:
    """Checks of stores that render JavaScript go to the `browser` queue, never the check queues."""
    if not claimed:
        return claimed
    rendered = set(
        Listing.objects.filter(id__in=[c.listing_id for c in claimed])
        .filter(Q(store__render_js=True) | Q(render_js=True))
        .values_list("id", flat=True)
    )
    if not rendered:
        return claimed
    from dataclasses import replace

    return [replace(c, queue=BROWSER_QUEUE) if c.listing_id in rendered else c for c in claimed]


def queue_for_listing(*, listing: Listing, priority: str | None = None) -> str:
    if listing.store.render_js or listing.render_js:
        return BROWSER_QUEUE
    return QUEUE_FOR_PRIORITY.get(priority or listing.priority, "checks_normal")


def listing_retry_after_error(*, listing: Listing, error, now: datetime | None = None) -> datetime | None:  # type: ignore[no-untyped-def]
    """Move the next check after a failed fetch, instead of sleeping or a long countdown.

    The shop's Retry-After (429/503) wins; other transient errors and block pages back off
    exponentially with jitter on the listing's failures in a row. Permanent errors (404, not
    a web page) keep the normal schedule. Safe to run twice: it only sets a time.
    """
    from .fetching.politeness import retry_delay

    if not (error.transient or error.retry_after or error.kind == "blocked"):
        return None
    now = now or timezone.now()
    failures = Listing.objects.filter(id=listing.pk).values_list("consecutive_failures", flat=True).first() or 1
    at = now + timedelta(seconds=retry_delay(failures=failures, retry_after=error.retry_after))
    Listing.objects.filter(id=listing.pk).update(next_check_at=at)
    return at

"""Keeping the database small: old check logs go, repeated prices are merged."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from tracker.history import runs_merge
from tracker.models import CheckLog, PricePoint

log = logging.getLogger(__name__)

_BATCH = 2000


def checklogs_cleanup(
    *, older_than_days: int, confirmations_older_than_days: int | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Delete finished check logs older than the retention, and
    checks that only confirmed an unchanged price (or found the page not modified) older than
    `confirmations_older_than_days` (their price point keeps how many there were and when the
    latest was; the listing when it was last checked).

    Price points keep their price (their link to the check becomes empty). Checks still
    queued or running are never deleted. Safe to run twice: the second run finds nothing.
    """
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    done = CheckLog.objects.exclude(outcome__in=(CheckLog.Outcome.QUEUED, CheckLog.Outcome.RUNNING))
    old = done.filter(Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, queued_at__lt=cutoff))
    if confirmations_older_than_days is not None:
        confirmed_cutoff = (now or timezone.now()) - timedelta(days=confirmations_older_than_days)
        old = done.filter(
            Q(pk__in=old.values("pk"))
            | (
                (Q(outcome=CheckLog.Outcome.OK, price_seen__isnull=False, price_point__isnull=True)
                 | Q(outcome=CheckLog.Outcome.UNCHANGED))
                & Q(finished_at__lt=confirmed_cutoff)
            )
        )
    deleted_checks = 0
    while True:
        ids = list(old.values_list("id", flat=True)[:_BATCH])
        if not ids:
            break
        deleted_checks += CheckLog.objects.filter(id__in=ids).delete()[1].get("tracker.CheckLog", 0)
    log.info("old logs deleted", extra={"checks": deleted_checks})
    return {"checks": deleted_checks}


def _referenced_price_points() -> set[int]:
    """Price points other rows point at (alerts, deals): those are never deleted."""
    referenced: set[int] = set()
    for relation in PricePoint._meta.related_objects:
        if relation.related_model is PricePoint or relation.hidden:
            continue
        referenced.update(
            relation.related_model._default_manager.filter(**{f"{relation.field.name}__isnull": False})
            .values_list(relation.field.attname, flat=True)
        )
    return referenced


def price_history_compact(
    *, older_than_days: int, listing_ids: list[int] | None = None, now: datetime | None = None
) -> int:
    """Merge runs of an unchanged price into one point spanning their checks; returns the
    points deleted.

    Checks already write history as changes (tracker.history); this catches what an older
    version or an import wrote one row per check. A run is consecutive points of one listing
    with the same price, currency and stock; its first point takes the run's last
    confirmation and its number of checks, so charts, lows, highs and medians read the same.
    Only points older than `older_than_days` are merged, and points that another row refers
    to are kept. Safe to run twice: a merged run is one point.
    """
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    protected = _referenced_price_points()
    listings = PricePoint.objects.filter(checked_at__lt=cutoff)
    if listing_ids is not None:
        listings = listings.filter(listing_id__in=listing_ids)
    deleted = 0
    for listing_id in listings.values_list("listing_id", flat=True).distinct().order_by("listing_id"):
        deleted += runs_merge(point_model=PricePoint, listing_id=listing_id, before=cutoff, protected=protected)
    if deleted:
        log.info("price history compacted", extra={"deleted": deleted})
    return deleted

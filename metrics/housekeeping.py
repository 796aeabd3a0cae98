"""Keeping the database small: old check logs go, repeated prices are thinned."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tracker.models import CheckLog, PricePoint

log = logging.getLogger(__name__)

_BATCH = 2000


def checklogs_cleanup(*, older_than_days: int, now: datetime | None = None) -> dict[str, int]:
    """Delete finished check logs older than the retention.

    Price points keep their price (their link to the check becomes empty). Checks still
    queued or running are never deleted. Safe to run twice: the second run finds nothing.
    """
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    done = CheckLog.objects.exclude(outcome__in=(CheckLog.Outcome.QUEUED, CheckLog.Outcome.RUNNING))
    old = done.filter(Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, queued_at__lt=cutoff))
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
        if relation.related_model is PricePoint:
            continue
        referenced.update(
            relation.related_model._default_manager.filter(**{f"{relation.field.name}__isnull": False})
            .values_list(relation.field.attname, flat=True)
        )
    return referenced


def price_history_compact(
    *, older_than_days: int, listing_ids: list[int] | None = None, now: datetime | None = None
) -> int:
    """Thin runs of an unchanged price to their first and last point; returns points deleted.

    A run is consecutive points of one listing with the same price, currency and stock.
    Keeping its first and last point keeps every change where it was, so a chart of the
    history draws the same line. Only points older than `older_than_days` are touched, and
    points that another row refers to are kept. Safe to run twice: a thinned run has no
    middle points left.
    """
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    protected = _referenced_price_points()
    listings = PricePoint.objects.filter(checked_at__lt=cutoff)
    if listing_ids is not None:
        listings = listings.filter(listing_id__in=listing_ids)
    deleted = 0
    for listing_id in listings.values_list("listing_id", flat=True).distinct().order_by("listing_id"):
        # The whole history of the listing is read, so a run that goes on after the cutoff
        # keeps its last point before the cutoff only if that point ends the run.
        rows = list(
            PricePoint.objects.filter(listing_id=listing_id)
            .order_by("checked_at", "id")
            .values_list("id", "price", "currency", "in_stock", "checked_at")
        )
        doomed = [
            row[0]
            for prev, row, nxt in zip(rows, rows[1:], rows[2:], strict=False)
            if row[1:4] == prev[1:4] == nxt[1:4] and row[4] < cutoff and row[0] not in protected
        ]
        for start in range(0, len(doomed), _BATCH):
            with transaction.atomic():
                deleted += PricePoint.objects.filter(id__in=doomed[start : start + _BATCH]).delete()[1].get("tracker.PricePoint", 0)
    if deleted:
        log.info("price history compacted", extra={"deleted": deleted})
    return deleted

"""Celery entry points of the deal scout. Thin: ids in, a service call, errors mapped."""

from __future__ import annotations

from celery import shared_task

from . import services
from .models import DealMatch, DealSource

SCAN_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "soft_time_limit": 240, "time_limit": 300}


@shared_task(name="deals.scout.tasks.scan_all", acks_late=True, soft_time_limit=50, time_limit=60)
def scan_all() -> int:
    """Every 5 minutes: queue a scan of each source that is due (claimed, so never twice)."""
    claimed = services.sources_claim_due()
    for source_id in claimed:
        scan_source.apply_async(args=[source_id], queue="default")
    return len(claimed)


@shared_task(name="deals.scout.tasks.scan_source", **SCAN_OPTIONS)
def scan_source(source_id: int) -> dict | None:
    """Scan one source. Idempotent: items and matches are unique, notifications claimed once."""
    source = DealSource.objects.filter(id=source_id).first()
    if source is None:
        return None
    report = services.source_scan(source=source)
    for match in report.matches:
        if services.match_should_notify(match):
            notify_deal.apply_async(args=[match.pk], queue="default")
    return services.scan_summary(report)


@shared_task(name="deals.scout.tasks.notify_deal", acks_late=True, soft_time_limit=50, time_limit=60)
def notify_deal(match_id: int) -> bool:
    """Hand a matched deal to the alert and notification path, once per deal."""
    match = DealMatch.objects.select_related("watch", "listing", "listing__source").filter(id=match_id).first()
    if match is None or not services.match_should_notify(match):
        return False
    from .notify import deal_notify

    return deal_notify(match=match)


@shared_task(name="deals.scout.tasks.refresh_comps", acks_late=True, soft_time_limit=1700, time_limit=1800)
def refresh_comps() -> int:
    """Nightly at 03:00: recompute comparables and scores."""
    return services.comps_refresh()


@shared_task(name="deals.scout.tasks.reconcile_listings", acks_late=True, soft_time_limit=290, time_limit=300)
def reconcile_listings() -> int:
    """Hourly: items that vanished from their source are marked gone/sold."""
    return services.listings_reconcile()

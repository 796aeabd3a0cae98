"""Celery entry points of the deal scout. Thin: ids in, a service call, errors mapped."""

from __future__ import annotations

from celery import shared_task

from ..models import DealMatch, DealSource
from . import comparables, reconcile, scan
from .match import match_should_notify
from .notify import TransientDealDeliveryError

SCAN_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "soft_time_limit": 240, "time_limit": 300}


@shared_task(name="deals.scout.tasks.scan_all", acks_late=True, soft_time_limit=50, time_limit=60)
def scan_all() -> int:
    """Every 5 minutes: queue a scan of each source that is due (claimed, so never twice)."""
    claimed = scan.sources_claim_due()
    for source_id in claimed:
        scan_source.apply_async(args=[source_id], queue="default")
    return len(claimed)


@shared_task(name="deals.scout.tasks.scan_source", **SCAN_OPTIONS)
def scan_source(source_id: int) -> dict | None:
    """Scan one source. Idempotent: items and matches are unique, notifications claimed once."""
    source = DealSource.objects.filter(id=source_id).first()
    if source is None:
        return None
    report = scan.source_scan(source=source)
    for match in report.matches:
        if match_should_notify(match):
            notify_deal.apply_async(args=[match.pk], queue="default")
    return scan.scan_summary(report)


@shared_task(name="deals.scout.tasks.notify_deal", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=50, time_limit=60)
def notify_deal(match_id: int) -> int:
    """Create the deal's notifications (once per deal and channel) and send the immediate ones."""
    from .notify import deal_notify

    match = DealMatch.objects.select_related("watch", "listing", "listing__source").filter(id=match_id).first()
    if match is None:
        return 0
    ids = deal_notify(match=match)
    for notification_id in ids:
        deliver_deal_notification.apply_async(args=[notification_id], queue="default")
    return len(ids)


@shared_task(
    name="deals.scout.tasks.deliver_deal_notification",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(TransientDealDeliveryError,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def deliver_deal_notification(notification_id: int) -> str:
    """Send one deal notification; claimed first, so never twice."""
    from .notify import deal_notification_deliver

    return deal_notification_deliver(notification_id=notification_id)


@shared_task(name="deals.scout.tasks.deliver_deal_digest", acks_late=True, soft_time_limit=120, time_limit=180)
def deliver_deal_digest(channel_id: int) -> int:
    from .notify import deal_digest_deliver

    return deal_digest_deliver(channel_id=channel_id)


@shared_task(name="deals.scout.tasks.send_deal_notifications", acks_late=True, soft_time_limit=50, time_limit=60)
def send_deal_notifications() -> dict:
    """Hourly: digests of deals, notifications released after quiet hours, stuck rows settled."""
    from .notify import deal_notifications_due, deal_notifications_recover

    given_up = deal_notifications_recover()
    immediate, digests = deal_notifications_due()
    for notification_id in immediate:
        deliver_deal_notification.apply_async(args=[notification_id], queue="default")
    for channel_id in digests:
        deliver_deal_digest.apply_async(args=[channel_id], queue="default")
    return {"immediate": len(immediate), "digests": len(digests), "given_up": given_up}


@shared_task(name="deals.scout.tasks.refresh_comps", acks_late=True, soft_time_limit=1700, time_limit=1800)
def refresh_comps() -> int:
    """Nightly at 03:00: recompute comparables and scores."""
    return comparables.comps_refresh()


@shared_task(name="deals.scout.tasks.reconcile_listings", acks_late=True, soft_time_limit=290, time_limit=300)
def reconcile_listings() -> int:
    """Hourly: items that vanished from their source are marked gone/sold."""
    return reconcile.listings_reconcile()

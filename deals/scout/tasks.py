"""Celery entry points of the deal scout. Thin: ids in, a service call, errors mapped."""

from __future__ import annotations

from celery import shared_task

from . import services
from .models import DealMatch, DealSource
from .notify import TransientDealDeliveryError


@shared_task(name="deals.scout.tasks.scan_all", soft_time_limit=50, time_limit=60)
def scan_all() -> int:
    """Every 5 minutes: queue a scan of each source that is due (claimed, so never twice)."""
    claimed = services.sources_claim_due()
    for source_id in claimed:
        scan_source.delay(source_id)
    return len(claimed)


@shared_task(name="deals.scout.tasks.scan_source", soft_time_limit=240, time_limit=300)
def scan_source(source_id: int) -> dict | None:
    """Scan one source. Idempotent: items and matches are unique, notifications claimed once."""
    source = DealSource.objects.filter(id=source_id).first()
    if source is None:
        return None
    report = services.source_scan(source=source)
    for match in report.matches:
        if services.match_should_notify(match):
            notify_deal.delay(match.pk)
    return services.scan_summary(report)


@shared_task(name="deals.scout.tasks.notify_deal", soft_time_limit=50, time_limit=60)
def notify_deal(match_id: int) -> int:
    """Create the deal's notifications (once per deal and channel) and send the immediate ones."""
    from .notify import deal_notify

    match = DealMatch.objects.select_related("watch", "listing", "listing__source").filter(id=match_id).first()
    if match is None:
        return 0
    ids = deal_notify(match=match)
    for notification_id in ids:
        deliver_deal_notification.delay(notification_id)
    return len(ids)


@shared_task(
    name="deals.scout.tasks.deliver_deal_notification",
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


@shared_task(name="deals.scout.tasks.deliver_deal_digest", soft_time_limit=120, time_limit=180)
def deliver_deal_digest(channel_id: int) -> int:
    from .notify import deal_digest_deliver

    return deal_digest_deliver(channel_id=channel_id)


@shared_task(name="deals.scout.tasks.send_deal_notifications", soft_time_limit=50, time_limit=60)
def send_deal_notifications() -> dict:
    """Hourly: digests of deals, notifications released after quiet hours, stuck rows settled."""
    from .notify import deal_notifications_due, deal_notifications_recover

    given_up = deal_notifications_recover()
    immediate, digests = deal_notifications_due()
    for notification_id in immediate:
        deliver_deal_notification.delay(notification_id)
    for channel_id in digests:
        deliver_deal_digest.delay(channel_id)
    return {"immediate": len(immediate), "digests": len(digests), "given_up": given_up}


@shared_task(name="deals.scout.tasks.refresh_comps", soft_time_limit=1700, time_limit=1800)
def refresh_comps() -> int:
    """Nightly at 03:00: recompute comparables and scores."""
    return services.comps_refresh()


@shared_task(name="deals.scout.tasks.reconcile_listings", soft_time_limit=290, time_limit=300)
def reconcile_listings() -> int:
    """Hourly: items that vanished from their source are marked gone/sold."""
    return services.listings_reconcile()

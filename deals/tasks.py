"""Celery entry points for deals: alerts, the one outbox, the deal scout. Thin: load by id,
call a service, map errors.

This module is the only place in `deals` that enqueues. Task names are pinned (`name=`): beat
entries and queued messages name them, so moving code never renames a task.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import transaction

from .alerts import evaluation as alerts
from .models import AlertRule, DealMatch, DealSource, Watch
from .notifications import delivery
from .scout import comparables, reconcile, scan
from .scout.match import Told, deal_notify, deal_tell, watch_match

DELIVERY_RETRY = {
    "autoretry_for": (delivery.TransientDeliveryError,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    # One retry policy for every notification: the first try plus the retries make the attempts.
    "max_retries": max(0, settings.DEALS_DELIVERY_MAX_ATTEMPTS - 1),
}


@shared_task(name="deals.tasks.evaluate_price_point", soft_time_limit=60, time_limit=90)
def evaluate_price_point(price_point_id: int, confirmed_at: str | None = None) -> int:
    """Judge a trusted price against its product's rules (found anew, or confirmed by the check
    at `confirmed_at`, ISO 8601), then send what fired. Idempotent: a rule's state only moves
    forward in check time, events are unique per (rule, price point), notifications per
    (event, channel)."""
    at = datetime.fromisoformat(confirmed_at) if confirmed_at else None
    events = alerts.price_point_evaluate(price_point_id=price_point_id, at=at)
    for event in events:
        for notification in event.notifications.filter(digest=False):
            enqueue_delivery(notification_id=notification.pk)
    return len(events)


@shared_task(
    name="deals.tasks.deliver_notification",
    bind=True,
    soft_time_limit=60,
    time_limit=90,
    **DELIVERY_RETRY,
)
def deliver_notification(self, notification_id: int) -> str:
    """Send one notification. A redelivered or retried task never sends a second copy: the
    row is claimed with a conditional UPDATE before sending (see deals/notifications/delivery.py)."""
    return delivery.notification_deliver(notification_id=notification_id)


@shared_task(
    name="deals.tasks.deliver_digest",
    soft_time_limit=120,
    time_limit=180,
)
def deliver_digest(channel_id: int) -> int:
    """Send a channel's due digest, alerts and deals together in one message."""
    return delivery.digest_deliver(channel_id=channel_id)


@shared_task(name="deals.tasks.send_notifications", soft_time_limit=50, time_limit=60)
def send_notifications() -> dict:
    """Hourly (see CELERY_BEAT_SCHEDULE): send digests, release notifications held by quiet hours,
    and settle rows a dead worker left behind; alerts and deals alike."""
    requeued, given_up = delivery.notifications_recover_stale()
    immediate, immediate_deals, digest_channels = delivery.notifications_due()
    for notification_id in immediate:
        deliver_notification.delay(notification_id)
    for notification_id in immediate_deals:
        deliver_deal_notification.delay(notification_id)
    for channel_id in digest_channels:
        deliver_digest.delay(channel_id)
    return {
        "immediate": len(immediate) + len(immediate_deals),
        "digests": len(digest_channels),
        "requeued": requeued,
        "given_up": given_up,
    }


@shared_task(
    name="deals.scout.tasks.deliver_deal_notification",
    soft_time_limit=60,
    time_limit=90,
    **DELIVERY_RETRY,
)
def deliver_deal_notification(notification_id: int) -> str:
    """Send one deal notification; claimed first, so never twice (deals/notifications/delivery.py)."""
    return delivery.deal_notification_deliver(notification_id=notification_id)


@shared_task(name="deals.scout.tasks.deliver_deal_digest", soft_time_limit=120, time_limit=180)
def deliver_deal_digest(channel_id: int) -> int:
    """The old name of `deliver_digest`, kept for messages already queued under it."""
    return delivery.digest_deliver(channel_id=channel_id)


@shared_task(name="deals.scout.tasks.send_deal_notifications", soft_time_limit=50, time_limit=60)
def send_deal_notifications() -> dict:
    """The old name of `send_notifications` (which sends deals too), kept for messages
    already queued under it. Running both is harmless: every row is claimed before it is sent."""
    return send_notifications()


# --- The deal scout ----------------------------------------------------------------------------

@shared_task(name="deals.scout.tasks.scan_all", soft_time_limit=50, time_limit=60)
def scan_all() -> int:
    """Every 5 minutes: queue a scan of each source that is due (claimed, so never twice)."""
    claimed = scan.sources_claim_due()
    for source_id in claimed:
        scan_source.delay(source_id)
    return len(claimed)


def matches_notify(*, matches: list[DealMatch]) -> list[Told]:
    """Tell the deals worth telling (each once per item and channel) and queue the immediate
    sends after commit. The one notify step of every scan path and of a saved watch."""
    told = []
    # An item that matched several watches is told once: by its best-scored match, and among
    # those scored alike by the one with most comparables, which has a usual price to tell
    # (the order the scan found them in is the database's to choose).
    for match in sorted(matches, key=lambda m: (-m.score, -m.comparable_count, m.pk)):
        result = deal_tell(match=match)
        if result is None:
            continue
        told.append(result)
        for notification_id in result.immediate:
            transaction.on_commit(lambda nid=notification_id: deliver_deal_notification.delay(nid))
    return told


def source_scan_notify(*, source: DealSource) -> tuple[scan.ScanReport, list[Told]]:
    """Scan, match, score and notify: what the beat, "Scan now" and `manage.py scan_source`
    all run, so none of them can skip a step."""
    report = scan.source_scan(source=source)
    return report, matches_notify(matches=report.matches)


@shared_task(name="deals.scout.tasks.scan_source", soft_time_limit=240, time_limit=300)
def scan_source(source_id: int) -> dict | None:
    """Scan one source. Idempotent: items and matches are unique, notifications claimed once."""
    source = DealSource.objects.filter(id=source_id).first()
    if source is None:
        return None
    report, told = source_scan_notify(source=source)
    return {**scan.scan_summary(report), "notified": [t.match.pk for t in told]}


@shared_task(name="deals.scout.tasks.match_watch", soft_time_limit=240, time_limit=300)
def match_watch(watch_id: int) -> int:
    """A watch was saved: match it against the items already seen, score, notify. Idempotent:
    matches are unique per (watch, item), and a deal is told once per item and channel."""
    watch = Watch.objects.filter(id=watch_id).first()
    if watch is None:
        return 0
    matches = watch_match(watch=watch)
    matches_notify(matches=matches)
    return len(matches)


def enqueue_watch_match(*, watch_id: int) -> None:
    """Match a saved watch once the transaction that saved it has committed."""
    match_watch.delay_on_commit(watch_id)


@shared_task(name="deals.scout.tasks.notify_deal", soft_time_limit=50, time_limit=60)
def notify_deal(match_id: int) -> int:
    """Kept for messages queued under this name: scans now notify in `matches_notify`."""
    match = DealMatch.objects.select_related("watch", "listing", "listing__source").filter(id=match_id).first()
    if match is None:
        return 0
    ids = deal_notify(match=match)
    for notification_id in ids:
        deliver_deal_notification.delay(notification_id)
    return len(ids)


@shared_task(name="deals.scout.tasks.refresh_comps", soft_time_limit=1700, time_limit=1800)
def refresh_comps() -> int:
    """Nightly at 03:00: recompute comparables and scores."""
    return comparables.comps_refresh()


@shared_task(name="deals.scout.tasks.reconcile_listings", soft_time_limit=290, time_limit=300)
def reconcile_listings() -> int:
    """Hourly: items that vanished from their source are marked gone/sold."""
    return reconcile.listings_reconcile()


def enqueue_delivery(*, notification_id: int) -> None:
    """Queue an immediate notification once the transaction that created it has committed."""
    transaction.on_commit(lambda: deliver_notification.delay(notification_id))


def enqueue_evaluation(*, price_point_id: int, confirmed_at: datetime | None = None) -> None:
    at = confirmed_at.isoformat() if confirmed_at else None
    transaction.on_commit(lambda: evaluate_price_point.delay(price_point_id, at))


def enqueue_rule_judgement(*, rule: AlertRule) -> None:
    """Judge a just-saved rule against the current prices once it is committed: a rule edited
    after it fired fires again at once if the current price meets it (the next check would
    only confirm that price)."""
    for point_id, confirmed_at in alerts.rule_current_points(rule=rule):
        enqueue_evaluation(price_point_id=point_id, confirmed_at=confirmed_at)


def on_check_finished(
    sender, *, product_id: int, price_point_id: int | None, outcome: str, price_changed: bool = True,
    checked_at: datetime | None = None, product_updated_at: datetime | None = None, **kwargs,
) -> None:
    """Receiver of tracker's `check_finished`: only trusted prices are judged, new ones and
    confirmations of the current one (edge-triggered rules re-arm on those)."""
    if outcome != "ok" or price_point_id is None:
        return
    # Most tracked products have no alert rules: judging them would be a task that does nothing.
    if not alerts.product_has_rules(product_id=product_id, version=product_updated_at):
        return
    enqueue_evaluation(price_point_id=price_point_id, confirmed_at=None if price_changed else checked_at)

"""Celery entry points for deals. Thin: load by id, call a service, map errors.

This module is the only place in `deals` that enqueues.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import transaction

from . import alerts, delivery

ALERT_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": 60,
    "time_limit": 90,
}


@shared_task(name="deals.tasks.evaluate_price_point", **ALERT_TASK_OPTIONS)
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
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(delivery.TransientDeliveryError,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=max(0, settings.DEALS_DELIVERY_MAX_ATTEMPTS - 1),
    soft_time_limit=60,
    time_limit=90,
)
def deliver_notification(self, notification_id: int) -> str:
    """Send one notification. A redelivered or retried task never sends a second copy: the
    row is claimed with a conditional UPDATE before sending (see deals/delivery.py)."""
    return delivery.notification_deliver(notification_id=notification_id)


@shared_task(
    name="deals.tasks.deliver_digest",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=120,
    time_limit=180,
)
def deliver_digest(channel_id: int) -> int:
    return delivery.digest_deliver(channel_id=channel_id)


@shared_task(name="deals.tasks.send_notifications", acks_late=True, soft_time_limit=50, time_limit=60)
def send_notifications() -> dict:
    """Hourly (see PERIODIC_TASKS): send digests, release notifications held by quiet hours,
    and settle rows a dead worker left behind."""
    requeued, given_up = delivery.notifications_recover_stale()
    immediate, digest_channels = delivery.notifications_due()
    for notification_id in immediate:
        deliver_notification.delay(notification_id)
    for channel_id in digest_channels:
        deliver_digest.delay(channel_id)
    return {
        "immediate": len(immediate),
        "digests": len(digest_channels),
        "requeued": requeued,
        "given_up": given_up,
    }


def enqueue_delivery(*, notification_id: int) -> None:
    """Queue an immediate notification once the transaction that created it has committed."""
    transaction.on_commit(lambda: deliver_notification.delay(notification_id))


def enqueue_evaluation(*, price_point_id: int, confirmed_at: datetime | None = None) -> None:
    at = confirmed_at.isoformat() if confirmed_at else None
    transaction.on_commit(lambda: evaluate_price_point.delay(price_point_id, at))


def on_check_finished(
    sender, *, product_id: int, price_point_id: int | None, outcome: str, price_changed: bool = True,
    checked_at: datetime | None = None, **kwargs,
) -> None:
    """Receiver of tracker's `check_finished`: only trusted prices are judged, new ones and
    confirmations of the current one (edge-triggered rules re-arm on those)."""
    if outcome != "ok" or price_point_id is None:
        return
    # Most tracked products have no alert rules: judging them would be a task that does nothing.
    from tracker import rows

    from .models import AlertRule

    if not rows.row_exists(AlertRule, where={"product": product_id, "enabled": True}):
        return
    enqueue_evaluation(price_point_id=price_point_id, confirmed_at=None if price_changed else checked_at)

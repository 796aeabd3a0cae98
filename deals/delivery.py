"""The notification outbox: claim, send, record. Nothing is lost and nothing is sent twice.

Each delivery claims its row with a conditional UPDATE (pending -> sending, with a fresh
claim token) and only the claimer sends. A redelivered or retried task finds the row taken
or done and does nothing.

A worker can die after the channel took the message but before the row says "sent". We
record `send_started_at` just before handing the message to the channel, and choose
at-most-once for that window: a row stuck in "sending" past DEALS_DELIVERY_STALE_AFTER is
put back to "pending" only if sending never started; if it had started, it is marked failed
("may or may not have arrived") and a person decides with the retry button. So a crash can
cost one visible, retryable notification, but never produces a duplicate.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.urls import NoReverseMatch
from django.utils import timezone

from tracker.history import prices_latest
from tracker.models import PricePoint

from .channels import ChannelError, channel_send
from .chart import price_chart_png
from .content import AlertFacts, Message, message_for_alert, message_for_digest
from .models import AlertEvent, Channel, Notification, NotificationSettings
from .quiet import quiet_until

log = logging.getLogger(__name__)

CHART_POINTS = 60
DIGEST_BATCH = 200


class TransientDeliveryError(Exception):
    """Sending failed in a way that may pass; the task retries with backoff."""


def _product_url(event: AlertEvent) -> str:
    try:
        path = event.product.get_absolute_url()
    except NoReverseMatch:
        path = "/"
    return f"{settings.SITE_URL}{path}"


def event_facts(*, event: AlertEvent, with_chart: bool = True) -> AlertFacts:
    chart = None
    if with_chart:
        prices = prices_latest(
            PricePoint.objects.filter(
                listing_id=event.listing_id,
                currency=event.currency,
                checked_at__lte=event.price_point.checked_at,
            ),
            limit=CHART_POINTS,
        )[::-1]
        if len(prices) >= 2:
            chart = price_chart_png(prices)
    return AlertFacts(
        product_name=event.product.name,
        store_name=str(event.listing.store),
        reason=event.reason,
        new_price=event.new_price,
        currency=event.currency,
        old_price=event.old_price,
        quality_label=event.quality_label,
        in_stock=event.in_stock,
        shop_url=event.listing.url,
        product_url=_product_url(event),
        chart_png=chart,
    )


def _quiet_until(owner_id: int, now: datetime) -> datetime | None:
    prefs = NotificationSettings.objects.filter(user_id=owner_id).first()
    if prefs is None:
        return None
    return quiet_until(now=now, start=prefs.quiet_start, end=prefs.quiet_end, tz=prefs.timezone)


def _failure(rows, *, error: ChannelError, attempts: int) -> str:
    """Record a failed send: back to pending while retrying helps, else failed for good."""
    if error.transient and attempts < settings.DEALS_DELIVERY_MAX_ATTEMPTS:
        rows.update(status=Notification.Status.PENDING, last_error=str(error), claim_token="", send_started_at=None)
        return "retry"
    rows.update(status=Notification.Status.FAILED, last_error=str(error), claim_token="")
    return "failed"


def notification_deliver(*, notification_id: int, now: datetime | None = None) -> str:
    """Send one immediate notification. Returns "sent", "skipped" (not ours to send: taken,
    done, digest or not due), "deferred" (quiet hours), "failed"; raises
    TransientDeliveryError when a retry may help. Safe to run twice (claimed first)."""
    now = now or timezone.now()
    row = Notification.objects.select_related("channel", "event").filter(pk=notification_id).first()
    if row is None or row.digest or row.status != Notification.Status.PENDING:
        return "skipped"
    until = _quiet_until(row.channel.owner_id, now)
    if until is not None:
        Notification.objects.filter(pk=row.pk, status=Notification.Status.PENDING).update(deliver_after=until)
        return "deferred"
    token = str(uuid.uuid4())
    claimed = Notification.objects.filter(
        pk=row.pk, status=Notification.Status.PENDING, deliver_after__lte=now
    ).update(
        status=Notification.Status.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return "skipped"
    mine = Notification.objects.filter(pk=row.pk, claim_token=token)
    row = Notification.objects.select_related(
        "channel", "event", "event__product", "event__listing", "event__listing__store", "event__price_point"
    ).get(pk=row.pk)
    if not row.channel.enabled:
        mine.update(status=Notification.Status.FAILED, last_error="the channel is switched off", claim_token="")
        return "failed"
    message = message_for_alert(event_facts(event=row.event))
    mine.update(send_started_at=timezone.now())
    try:
        channel_send(channel=row.channel, message=message)
    except ChannelError as exc:
        outcome = _failure(mine, error=exc, attempts=row.attempts)
        log.warning(
            "notification not delivered",
            extra={"notification_id": row.pk, "attempt": row.attempts, "outcome": outcome, "error": str(exc)},
        )
        if outcome == "retry":
            raise TransientDeliveryError(str(exc)) from exc
        return outcome
    mine.update(status=Notification.Status.SENT, sent_at=timezone.now(), last_error="", claim_token="")
    log.info("notification delivered", extra={"notification_id": row.pk, "attempt": row.attempts})
    return "sent"


def digest_deliver(*, channel_id: int, now: datetime | None = None) -> int:
    """Send a channel's due digest notifications as one message; returns how many it carried.
    Safe to run twice: the rows are claimed together under one token first."""
    now = now or timezone.now()
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or not channel.enabled:
        return 0
    until = _quiet_until(channel.owner_id, now)
    due = Notification.objects.filter(
        channel_id=channel_id, digest=True, status=Notification.Status.PENDING, deliver_after__lte=now
    )
    if until is not None:
        due.update(deliver_after=until)
        return 0
    ids = list(due.order_by("created_at", "id").values_list("id", flat=True)[:DIGEST_BATCH])
    if not ids:
        return 0
    token = str(uuid.uuid4())
    Notification.objects.filter(id__in=ids, status=Notification.Status.PENDING).update(
        status=Notification.Status.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1
    )
    mine = Notification.objects.filter(claim_token=token)
    rows = list(
        mine.select_related("event", "event__product", "event__listing", "event__listing__store", "event__price_point")
        .order_by("event__created_at", "id")
    )
    if not rows:
        return 0
    message: Message = message_for_digest([event_facts(event=row.event, with_chart=False) for row in rows])
    mine.update(send_started_at=timezone.now())
    try:
        channel_send(channel=channel, message=message)
    except ChannelError as exc:
        outcome = _failure(mine, error=exc, attempts=max(row.attempts for row in rows))
        log.warning("digest not delivered", extra={"channel_id": channel_id, "outcome": outcome, "error": str(exc)})
        return 0
    mine.update(status=Notification.Status.SENT, sent_at=timezone.now(), last_error="", claim_token="")
    return len(rows)


def notifications_recover_stale(*, now: datetime | None = None) -> tuple[int, int]:
    """Rows left "sending" by a dead worker: back to pending if sending never started,
    failed (with the reason) if it had. Returns (requeued, given up)."""
    now = now or timezone.now()
    stale = Notification.objects.filter(
        status=Notification.Status.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.DEALS_DELIVERY_STALE_AFTER),
    )
    requeued = stale.filter(send_started_at__isnull=True).update(
        status=Notification.Status.PENDING, claim_token="", last_error="the worker stopped before sending; sending again"
    )
    given_up = stale.filter(send_started_at__isnull=False).update(
        status=Notification.Status.FAILED,
        claim_token="",
        last_error=(
            "the worker stopped while sending: it may or may not have arrived. "
            "Not resent automatically, so you never get it twice; press retry to send it again."
        ),
    )
    return requeued, given_up


def notifications_due(*, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """(immediate notification ids, digest channel ids) that are due now."""
    now = now or timezone.now()
    pending = Notification.objects.filter(status=Notification.Status.PENDING, deliver_after__lte=now)
    immediate = list(pending.filter(digest=False).values_list("id", flat=True)[:5000])
    channels = list(pending.filter(digest=True).order_by().values_list("channel_id", flat=True).distinct())
    return immediate, channels


def notification_retry(*, notification_id: int, owner) -> Notification | None:
    """A person asks to send a failed notification again. Returns it if it was re-queued."""
    updated = Notification.objects.filter(
        Q(status=Notification.Status.FAILED), pk=notification_id, channel__owner=owner
    ).update(status=Notification.Status.PENDING, attempts=0, deliver_after=timezone.now(), send_started_at=None)
    return Notification.objects.filter(pk=notification_id).first() if updated else None

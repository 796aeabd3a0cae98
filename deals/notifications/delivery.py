"""The one notification outbox, for alerts and deals alike: claim, send, record. Nothing is
lost and nothing is sent twice.

Each delivery claims its row with a conditional UPDATE (pending -> sending, with a fresh
claim token) and only the claimer sends. A redelivered or retried task finds the row taken
or done and does nothing.

A worker can die after the channel took the message but before the row says "sent". We
record `send_started_at` just before handing the message to the channel, and choose
at-most-once for that window: a row stuck in "sending" past DEALS_DELIVERY_STALE_AFTER is
put back to "pending" only if sending never started; if it had started, it is marked failed
("may or may not have arrived") and a person decides with the retry button. So a crash can
cost one visible, retryable notification, but never produces a duplicate.

Alert rows (`Notification`) and deal rows (`DealNotification`) share the fields (`OutboxRow`),
this claim and recover rule (judged by `claimed_at`), the channel's on/off switch, the retry
policy (DEALS_DELIVERY_MAX_ATTEMPTS) and one hourly digest per channel, capped at DIGEST_BATCH.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.urls import NoReverseMatch
from django.utils import timezone

from tracker.models import PricePoint

from ..alerts.quiet import quiet_until
from ..models import (
    AlertEvent,
    Channel,
    DealMatch,
    DealNotification,
    Notification,
    NotificationSettings,
    OutboxRow,
)
from .channels import ChannelError, channel_send
from .chart import price_chart_png
from .content import AlertFacts, message_for_alert, message_for_digest

log = logging.getLogger(__name__)

CHART_POINTS = 60
# At most this many notifications in one digest message: the rest go in the next one, so a
# backlog never becomes a message too large for the channel.
DIGEST_BATCH = 200
OUTBOXES: tuple[type[OutboxRow], ...] = (Notification, DealNotification)
# What building each kind's message reads, fetched with the row.
_RELATED = {
    Notification: ("channel", "event", "event__product", "event__listing", "event__listing__store", "event__price_point"),
    DealNotification: ("channel", "match", "match__watch", "match__listing", "match__listing__source"),
}


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
        prices = list(
            PricePoint.objects.filter(
                listing_id=event.listing_id,
                currency=event.currency,
                checked_at__lte=event.price_point.checked_at,
            )
            .order_by("-checked_at", "-id")
            .values_list("price", flat=True)[:CHART_POINTS]
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


def deal_facts(*, match: DealMatch) -> AlertFacts:
    """A deal as a message: "before" is the item's own previous price (none for an item seen
    once), "usual" the comparable, the stock what the source said (unknown if it said nothing)."""
    listing = match.listing
    quality = f"deal score {match.score} (confidence {match.confidence:.1f})"
    return AlertFacts(
        product_name=listing.title,
        store_name=f"{listing.source} (watch “{match.watch}”)",
        reason=match.reason,
        new_price=listing.price,
        currency=listing.currency,
        old_price=listing.previous_price,
        usual_price=match.comparable_price,
        quality_label=quality,
        in_stock=listing.in_stock,
        shop_url=listing.url,
        product_url=f"{settings.SITE_URL}/scout/?watch={match.watch_id}",
        kind="deal",
    )


def _facts(row: OutboxRow, *, with_chart: bool) -> AlertFacts:
    if isinstance(row, DealNotification):
        return deal_facts(match=row.match)
    return event_facts(event=row.event, with_chart=with_chart)


def _quiet_until(owner_id: int, now: datetime) -> datetime | None:
    prefs = NotificationSettings.objects.filter(user_id=owner_id).first()
    if prefs is None:
        return None
    return quiet_until(now=now, start=prefs.quiet_start, end=prefs.quiet_end, tz=prefs.timezone)


def _failure(rows: QuerySet, *, error: ChannelError, attempts: int) -> str:
    """Record a failed send: back to pending while retrying helps, else failed for good."""
    if error.transient and attempts < settings.DEALS_DELIVERY_MAX_ATTEMPTS:
        rows.update(status=OutboxRow.Status.PENDING, last_error=str(error), claim_token="", send_started_at=None)
        return "retry"
    rows.update(status=OutboxRow.Status.FAILED, last_error=str(error), claim_token="")
    return "failed"


def _claim(rows: QuerySet, *, token: str, now: datetime) -> int:
    """pending -> sending under `token`, stamped with the claim time; returns how many were won."""
    return rows.filter(status=OutboxRow.Status.PENDING, deliver_after__lte=now).update(
        status=OutboxRow.Status.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1
    )


def outbox_deliver(*, model: type[OutboxRow], row_id: int, now: datetime | None = None) -> str:
    """Send one immediate notification (alert or deal). Returns "sent", "skipped" (not ours to
    send: taken, done, digest or not due), "deferred" (quiet hours), "failed"; raises
    TransientDeliveryError when a retry may help. Safe to run twice (claimed first)."""
    now = now or timezone.now()
    row = model.objects.select_related("channel").filter(pk=row_id).first()
    if row is None or row.digest or row.status != OutboxRow.Status.PENDING:
        return "skipped"
    until = _quiet_until(row.channel.owner_id, now)
    if until is not None:
        model.objects.filter(pk=row.pk, status=OutboxRow.Status.PENDING).update(deliver_after=until)
        return "deferred"
    token = str(uuid.uuid4())
    if not _claim(model.objects.filter(pk=row.pk), token=token, now=now):
        return "skipped"
    mine = model.objects.filter(pk=row.pk, claim_token=token)
    row = model.objects.select_related(*_RELATED[model]).get(pk=row.pk)
    if not row.channel.enabled:
        mine.update(status=OutboxRow.Status.FAILED, last_error="the channel is switched off", claim_token="")
        return "failed"
    message = message_for_alert(_facts(row, with_chart=True))
    mine.update(send_started_at=timezone.now())
    try:
        channel_send(channel=row.channel, message=message)
    except ChannelError as exc:
        outcome = _failure(mine, error=exc, attempts=row.attempts)
        log.warning(
            "notification not delivered",
            extra={"notification_id": row.pk, "kind": model.__name__, "attempt": row.attempts, "outcome": outcome, "error": str(exc)},
        )
        if outcome == "retry":
            raise TransientDeliveryError(str(exc)) from exc
        return outcome
    mine.update(status=OutboxRow.Status.SENT, sent_at=timezone.now(), last_error="", claim_token="")
    log.info("notification delivered", extra={"notification_id": row.pk, "kind": model.__name__, "attempt": row.attempts})
    return "sent"


def notification_deliver(*, notification_id: int, now: datetime | None = None) -> str:
    """Send one alert notification (see `outbox_deliver`)."""
    return outbox_deliver(model=Notification, row_id=notification_id, now=now)


def deal_notification_deliver(*, notification_id: int, now: datetime | None = None) -> str:
    """Send one deal notification (see `outbox_deliver`)."""
    return outbox_deliver(model=DealNotification, row_id=notification_id, now=now)


def _digest_pick(*, channel_id: int, now: datetime) -> dict[type[OutboxRow], list[int]]:
    """The channel's oldest due digest rows of every kind, DIGEST_BATCH at most in all."""
    due = []
    for model in OUTBOXES:
        due += [
            (created_at, model.__name__, pk, model)
            for pk, created_at in model.objects.filter(
                channel_id=channel_id, digest=True, status=OutboxRow.Status.PENDING, deliver_after__lte=now
            )
            .order_by("created_at", "id")
            .values_list("id", "created_at")[:DIGEST_BATCH]
        ]
    picked: dict[type[OutboxRow], list[int]] = {}
    for _, _, pk, model in sorted(due, key=lambda item: item[:3])[:DIGEST_BATCH]:
        picked.setdefault(model, []).append(pk)
    return picked


def digest_deliver(*, channel_id: int, now: datetime | None = None) -> int:
    """Send a channel's due digest notifications, alerts and deals together, as one message;
    returns how many it carried. Safe to run twice: the rows are claimed together under one
    token first."""
    now = now or timezone.now()
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or not channel.enabled:
        return 0
    until = _quiet_until(channel.owner_id, now)
    if until is not None:
        for model in OUTBOXES:
            model.objects.filter(
                channel_id=channel_id, digest=True, status=OutboxRow.Status.PENDING, deliver_after__lte=now
            ).update(deliver_after=until)
        return 0
    token = str(uuid.uuid4())
    for model, ids in _digest_pick(channel_id=channel_id, now=now).items():
        _claim(model.objects.filter(id__in=ids), token=token, now=now)
    mine = [model.objects.filter(claim_token=token) for model in OUTBOXES]
    rows = sorted(
        (row for rows in mine for row in rows.select_related(*_RELATED[rows.model])),
        key=lambda row: (row.created_at, type(row).__name__, row.pk),
    )
    if not rows:
        return 0
    message = message_for_digest([_facts(row, with_chart=False) for row in rows])
    for rows_of_kind in mine:
        rows_of_kind.update(send_started_at=timezone.now())
    try:
        channel_send(channel=channel, message=message)
    except ChannelError as exc:
        attempts = max(row.attempts for row in rows)
        outcomes = {_failure(rows_of_kind, error=exc, attempts=attempts) for rows_of_kind in mine}
        log.warning("digest not delivered", extra={"channel_id": channel_id, "outcome": outcomes, "error": str(exc)})
        return 0
    for rows_of_kind in mine:
        rows_of_kind.update(status=OutboxRow.Status.SENT, sent_at=timezone.now(), last_error="", claim_token="")
    return len(rows)


def notifications_recover_stale(*, now: datetime | None = None) -> tuple[int, int]:
    """Rows a dead worker left "sending" (claimed longer ago than DEALS_DELIVERY_STALE_AFTER):
    back to pending if sending never started, failed (with the reason) if it had. Judged by
    the claim time, so a row claimed just now is never touched, however old it is.
    Returns (requeued, given up)."""
    now = now or timezone.now()
    requeued = given_up = 0
    for model in OUTBOXES:
        stale = model.objects.filter(
            status=OutboxRow.Status.SENDING,
            claimed_at__lt=now - timedelta(seconds=settings.DEALS_DELIVERY_STALE_AFTER),
        )
        requeued += stale.filter(send_started_at__isnull=True).update(
            status=OutboxRow.Status.PENDING, claim_token="", last_error="the worker stopped before sending; sending again"
        )
        given_up += stale.filter(send_started_at__isnull=False).update(
            status=OutboxRow.Status.FAILED,
            claim_token="",
            last_error=(
                "the worker stopped while sending: it may or may not have arrived. "
                "Not resent automatically, so you never get it twice; press retry to send it again."
            ),
        )
    return requeued, given_up


def notifications_due(*, now: datetime | None = None) -> tuple[list[int], list[int], list[int]]:
    """(immediate alert notification ids, immediate deal notification ids, digest channel ids)
    that are due now."""
    now = now or timezone.now()
    immediate: list[list[int]] = []
    channels: set[int] = set()
    for model in OUTBOXES:
        pending = model.objects.filter(status=OutboxRow.Status.PENDING, deliver_after__lte=now)
        immediate.append(list(pending.filter(digest=False).values_list("id", flat=True)[:5000]))
        channels.update(pending.filter(digest=True).order_by().values_list("channel_id", flat=True).distinct())
    return immediate[0], immediate[1], sorted(channels)


def notification_retry(*, notification_id: int, owner) -> Notification | None:
    """A person asks to send a failed notification again. Returns it if it was re-queued."""
    updated = Notification.objects.filter(
        Q(status=Notification.Status.FAILED), pk=notification_id, channel__owner=owner
    ).update(status=Notification.Status.PENDING, attempts=0, deliver_after=timezone.now(), send_started_at=None)
    return Notification.objects.filter(pk=notification_id).first() if updated else None

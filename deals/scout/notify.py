"""Telling a person about a matched deal: one notification per deal and channel, sent once.

Uses the alert path's channels and message format. Each row is claimed with a conditional
UPDATE before sending, so a redelivered or retried task never sends a second copy; a crash
between the channel taking the message and the row saying "sent" leaves it "sending", and
`deal_notifications_recover` marks it failed (at most once, never twice), as alerts do.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from deals.alerts.quiet import quiet_until
from deals.models import Channel, DealMatch, DealNotification, NotificationSettings
from deals.notifications.channels import ChannelError, channel_send
from deals.notifications.content import AlertFacts, message_for_alert, message_for_digest

from . import match as services

log = logging.getLogger(__name__)


class TransientDealDeliveryError(Exception):
    """Sending failed in a way that may pass; the task retries with backoff."""


def deal_notify(*, match: DealMatch) -> list[int]:
    """Create the outbox rows for a deal worth telling; returns the ids to send at once.

    Safe to run twice: the match is claimed once (`notified_at`) and rows are unique per
    (match, channel).
    """
    if not services.match_should_notify(match):
        return []
    if not services.match_claim_notification(match_id=match.pk):
        return []
    created: list[int] = []
    for channel in Channel.objects.filter(owner_id=match.watch.owner_id, enabled=True):
        try:
            with transaction.atomic():
                row = DealNotification.objects.create(match=match, channel=channel)
        except IntegrityError:
            continue
        if channel.mode == Channel.Mode.IMMEDIATE:
            created.append(row.pk)
    return created


def deal_facts(match: DealMatch) -> AlertFacts:
    listing = match.listing
    quality = f"deal score {match.score} (confidence {match.confidence:.1f})"
    return AlertFacts(
        product_name=listing.title,
        store_name=f"{listing.source} (watch “{match.watch}”)",
        reason=match.reason,
        new_price=listing.price,
        currency=listing.currency,
        old_price=match.comparable_price,
        quality_label=quality,
        in_stock=True,
        shop_url=listing.url,
        product_url=f"{settings.SITE_URL}/scout/?watch={match.watch_id}",
    )


def _quiet_until(owner_id: int, now: datetime) -> datetime | None:
    prefs = NotificationSettings.objects.filter(user_id=owner_id).first()
    if prefs is None:
        return None
    return quiet_until(now=now, start=prefs.quiet_start, end=prefs.quiet_end, tz=prefs.timezone)


def _claim(rows, now: datetime) -> str | None:
    token = str(uuid.uuid4())
    claimed = rows.filter(status=DealNotification.Status.PENDING, deliver_after__lte=now).update(
        status=DealNotification.Status.SENDING, claim_token=token, attempts=F("attempts") + 1
    )
    return token if claimed else None


def _send(rows, channel: Channel, message, attempts: int) -> str:
    try:
        channel_send(channel=channel, message=message)
    except ChannelError as exc:
        if exc.transient and attempts < settings.DEALS_DELIVERY_MAX_ATTEMPTS:
            rows.update(status=DealNotification.Status.PENDING, last_error=str(exc), claim_token="")
            raise TransientDealDeliveryError(str(exc)) from exc
        rows.update(status=DealNotification.Status.FAILED, last_error=str(exc), claim_token="")
        return "failed"
    rows.update(status=DealNotification.Status.SENT, sent_at=timezone.now(), last_error="", claim_token="")
    return "sent"


def deal_notification_deliver(*, notification_id: int, now: datetime | None = None) -> str:
    """Send one deal notification now. Safe to run twice (claimed first)."""
    now = now or timezone.now()
    row = DealNotification.objects.select_related("channel").filter(pk=notification_id).first()
    if row is None or row.status != DealNotification.Status.PENDING:
        return "skipped"
    until = _quiet_until(row.channel.owner_id, now)
    if until is not None:
        DealNotification.objects.filter(pk=row.pk, status=DealNotification.Status.PENDING).update(deliver_after=until)
        return "deferred"
    token = _claim(DealNotification.objects.filter(pk=row.pk), now)
    if token is None:
        return "skipped"
    mine = DealNotification.objects.filter(pk=row.pk, claim_token=token)
    row = DealNotification.objects.select_related(
        "channel", "match", "match__watch", "match__listing", "match__listing__source"
    ).get(pk=row.pk)
    return _send(mine, row.channel, message_for_alert(deal_facts(row.match)), row.attempts)


def deal_digest_deliver(*, channel_id: int, now: datetime | None = None) -> int:
    """Send a digest channel's waiting deal notifications as one message. Returns how many."""
    now = now or timezone.now()
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or _quiet_until(channel.owner_id, now) is not None:
        return 0
    token = _claim(DealNotification.objects.filter(channel_id=channel_id), now)
    if token is None:
        return 0
    mine = DealNotification.objects.filter(channel_id=channel_id, claim_token=token)
    rows = list(mine.select_related("match", "match__watch", "match__listing", "match__listing__source"))
    message = message_for_digest([deal_facts(r.match) for r in rows])
    try:
        _send(mine, channel, message, max(r.attempts for r in rows))
    except TransientDealDeliveryError:
        return 0
    return len(rows)


def deal_notifications_due(*, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """Immediate rows that are due (released after quiet hours), and digest channels with rows."""
    now = now or timezone.now()
    pending = DealNotification.objects.filter(status=DealNotification.Status.PENDING, deliver_after__lte=now)
    immediate = list(pending.filter(channel__mode=Channel.Mode.IMMEDIATE).values_list("id", flat=True)[:1000])
    digests = list(pending.filter(channel__mode=Channel.Mode.DIGEST).values_list("channel_id", flat=True).distinct())
    return immediate, digests


def deal_notifications_recover(*, now: datetime | None = None) -> int:
    """Rows left "sending" by a dead worker are marked failed: they may have arrived, so they
    are never sent again by themselves (a person can see them)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.DEALS_DELIVERY_STALE_AFTER)
    return DealNotification.objects.filter(status=DealNotification.Status.SENDING, created_at__lt=cutoff).update(
        status=DealNotification.Status.FAILED,
        last_error="the worker stopped while sending; it may or may not have arrived",
        claim_token="",
    )

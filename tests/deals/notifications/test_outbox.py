"""The one outbox: alerts and deals share its claim/recover rule, the channel switch and the digest."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from deals import tasks
from deals.models import (
    AlertRule,
    Channel,
    DealListing,
    DealMatch,
    DealNotification,
    DealSource,
    Notification,
    OutboxRow,
    Watch,
)
from deals.notifications import delivery
from deals.notifications.channels import channel_add
from deals.scout.match import deal_notify

from ..conftest import later, record_price

pytestmark = pytest.mark.django_db


def hook(receiver) -> str:
    return f"json://127.0.0.1:{receiver.port}/hook"


def alert_rows(product, listing) -> list[Notification]:
    """A target rule and a dip below it: one alert event, one row per enabled channel."""
    from deals.alerts.evaluation import price_point_evaluate

    AlertRule.objects.create(product=product, kind=AlertRule.Kind.TARGET, threshold=Decimal("95"))
    for i, price in enumerate((120, 90)):
        price_point_evaluate(price_point_id=record_price(listing, price, later(hours=i)).pk)
    return list(Notification.objects.order_by("id"))


def deal(user, title: str, *, price: str = "499.00") -> DealMatch:
    source, _ = DealSource.objects.get_or_create(name="Hot deals", kind="feed", url="http://127.0.0.1:9/rss")
    watch, _ = Watch.objects.get_or_create(owner=user, query="rtx 4070", alert_min_score=15)
    item = DealListing.objects.create(
        source=source, external_id=title, url="http://deals.test/1", title=title, price=Decimal(price), currency="USD"
    )
    return DealMatch.objects.create(
        watch=watch, listing=item, score=18, confidence=0.6, comparable_price=Decimal("610.00"), comparable_count=5,
        reason="18 % below the usual price",
    )


@pytest.mark.parametrize("kind", ["alert", "deal"])
def test_a_row_being_sent_during_the_hourly_recovery_is_not_marked_failed(
    kind, user, product, listing, http_receiver, monkeypatch
):
    """Created hours ago, claimed just now: the recovery judges it by its claim time."""
    channel_add(owner=user, name="hook", url=hook(http_receiver))
    if kind == "alert":
        [row] = alert_rows(product, listing)
    else:
        [row_id] = deal_notify(match=deal(user, "RTX 4070 Eagle"))
        row = DealNotification.objects.get(pk=row_id)
    type(row).objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(hours=3))
    summaries = []
    real_send = delivery.channel_send

    def send_during_recovery(**kwargs):
        summaries.append(tasks.send_notifications.apply().get())  # the hourly run, mid-send
        real_send(**kwargs)

    monkeypatch.setattr(delivery, "channel_send", send_during_recovery)
    assert delivery.outbox_deliver(model=type(row), row_id=row.pk) == "sent"
    assert summaries[0]["requeued"] == summaries[0]["given_up"] == 0
    row.refresh_from_db()
    assert row.status == OutboxRow.Status.SENT and row.last_error == ""
    assert len(http_receiver.wait_for(1)) == 1


def test_a_claimed_row_not_yet_sent_survives_the_recovery_task(user, http_receiver):
    channel_add(owner=user, name="hook", url=hook(http_receiver))
    [row_id] = deal_notify(match=deal(user, "RTX 4070 Eagle"))
    old = timezone.now() - timedelta(hours=3)
    DealNotification.objects.filter(pk=row_id).update(
        status=OutboxRow.Status.SENDING, claim_token="mine", claimed_at=timezone.now(), created_at=old
    )
    assert tasks.send_notifications.apply().get()["given_up"] == 0
    row = DealNotification.objects.get(pk=row_id)
    assert row.status == OutboxRow.Status.SENDING and row.claim_token == "mine"


def test_a_disabled_channel_gets_nothing_of_either_kind(user, product, listing, http_receiver):
    channel = channel_add(owner=user, name="hook", url=hook(http_receiver))
    [alert] = alert_rows(product, listing)
    [deal_id] = deal_notify(match=deal(user, "RTX 4070 Eagle"))
    Channel.objects.filter(pk=channel.pk).update(enabled=False)
    assert delivery.notification_deliver(notification_id=alert.pk) == "failed"
    assert delivery.deal_notification_deliver(notification_id=deal_id) == "failed"
    assert DealNotification.objects.get(pk=deal_id).last_error == "the channel is switched off"
    # A deal found while the channel is off makes no row for it at all.
    assert deal_notify(match=deal(user, "RTX 4070 Super")) == []
    assert DealNotification.objects.count() == 1
    assert http_receiver.requests == []


def test_a_disabled_digest_channel_gets_no_digest_of_either_kind(user, product, listing, http_receiver):
    channel = channel_add(owner=user, name="digest", url=hook(http_receiver), mode=Channel.Mode.DIGEST)
    alert_rows(product, listing)
    deal_notify(match=deal(user, "RTX 4070 Eagle"))
    Channel.objects.filter(pk=channel.pk).update(enabled=False)
    assert delivery.digest_deliver(channel_id=channel.pk) == 0
    assert http_receiver.requests == []


def test_alerts_and_deals_share_one_digest(user, product, listing, http_receiver):
    channel = channel_add(owner=user, name="digest", url=hook(http_receiver), mode=Channel.Mode.DIGEST)
    alert_rows(product, listing)
    assert deal_notify(match=deal(user, "RTX 4070 Eagle")) == []  # digest: nothing at once
    _alerts, _deals, channels = delivery.notifications_due()
    assert channels == [channel.pk]
    assert delivery.digest_deliver(channel_id=channel.pk) == 2
    [request] = http_receiver.wait_for(1)
    text = str(request["json"])
    # The digest names what it carries (it used to call the price alert a "deal").
    assert request["json"]["title"] == "PriceTracker: 1 price alert and 1 deal in the last hour"
    assert "Espresso machine" in text and "RTX 4070 Eagle" in text
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert set(DealNotification.objects.values_list("status", flat=True)) == {"sent"}
    assert delivery.digest_deliver(channel_id=channel.pk) == 0


def test_the_digest_batch_cap_holds_across_both_kinds(user, product, listing, http_receiver, monkeypatch):
    monkeypatch.setattr(delivery, "DIGEST_BATCH", 2)
    channel = channel_add(owner=user, name="digest", url=hook(http_receiver), mode=Channel.Mode.DIGEST)
    alert_rows(product, listing)
    for title in ("RTX 4070 Eagle", "RTX 4070 Super", "RTX 4070 Ti"):
        deal_notify(match=deal(user, title))
    assert delivery.digest_deliver(channel_id=channel.pk) == 2
    assert delivery.digest_deliver(channel_id=channel.pk) == 2
    assert delivery.digest_deliver(channel_id=channel.pk) == 0
    received = http_receiver.wait_for(2)
    assert [r["json"]["title"] for r in received] == [
        "PriceTracker: 1 price alert and 1 deal in the last hour",
        "PriceTracker: 2 deals in the last hour",
    ]
    # The oldest went first: the alert fired before the deals were found.
    assert "Espresso machine" in str(received[0]["json"]) and "RTX 4070 Ti" in str(received[1]["json"])

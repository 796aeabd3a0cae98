"""Delivering notifications to real local receivers: content, retries, crashes, digests."""

from __future__ import annotations

import base64
import socket
from datetime import time, timedelta
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from deals import tasks
from deals.models import AlertRule, Channel, Notification, NotificationSettings
from deals.notifications import delivery, netguard
from deals.notifications.channels import ChannelError, channel_add, channel_test

from ..conftest import later, record_price

pytestmark = pytest.mark.django_db


def json_url(receiver, secret="Wh00kS3cret") -> str:
    return f"json://hook:{secret}@127.0.0.1:{receiver.port}/incoming"


def fire(product, listing, prices=(120, 100, 90)):
    """Rule 'at or below 95' and a price history ending with a dip: one alert event."""
    from deals.alerts.evaluation import price_point_evaluate

    AlertRule.objects.create(product=product, kind=AlertRule.Kind.TARGET, threshold=Decimal("95"))
    events = []
    for i, price in enumerate(prices):
        point = record_price(listing, price, later(hours=i))
        events += price_point_evaluate(price_point_id=point.pk)
    return events


def test_a_json_channel_receives_the_alert_with_its_content_and_chart(user, product, listing, http_receiver):
    channel = channel_add(owner=user, name="hook", url=json_url(http_receiver))
    [event] = fire(product, listing)
    notification = Notification.objects.get(event=event, channel=channel)
    assert delivery.notification_deliver(notification_id=notification.pk) == "sent"
    [request] = http_receiver.wait_for(1)
    body = request["json"]
    assert "Espresso machine" in body["title"] and "€90.00" in body["title"]
    message = body["message"]
    assert "€100.00 → €90.00" in message
    assert "−€10.00 (−10.0 %)" in message
    assert "shop-a.test" in message
    assert "Stock: In stock" in message
    assert "https://shop-a.test/espresso" in message
    assert f"http://pricetracker.test{product.get_absolute_url()}" in message
    assert "Deal quality: Not enough history yet" in message
    [chart] = body["attachments"]
    assert chart["mimetype"] == "image/png"
    assert base64.b64decode(chart["base64"]).startswith(b"\x89PNG")
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"hook:Wh00kS3cret").decode()
    notification.refresh_from_db()
    assert notification.status == "sent" and notification.attempts == 1 and notification.sent_at


def test_an_email_channel_sends_plain_text_html_and_the_chart_over_smtp(user, product, listing, smtp_server):
    channel = channel_add(owner=user, name="mail", kind=Channel.Kind.EMAIL, email_to="alice@example.test")
    [event] = fire(product, listing)
    notification = Notification.objects.get(event=event, channel=channel)
    assert delivery.notification_deliver(notification_id=notification.pk) == "sent"
    [mail] = smtp_server.messages
    assert mail["to"] == ["alice@example.test"]
    message = mail["message"]
    assert "Espresso machine" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "€100.00 → €90.00" in text and "https://shop-a.test/espresso" in text
    assert "<table>" in html and 'href="https://shop-a.test/espresso"' in html and "cid:price-chart.png" in html
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0].get_content().startswith(b"\x89PNG")


def test_a_mailto_apprise_channel_reaches_the_local_smtp_server(user, product, listing, smtp_server):
    url = f"mailto://127.0.0.1:{smtp_server.port}?from=pt@example.test&to=bob@example.test&mode=insecure"
    channel = channel_add(owner=user, name="apprise mail", url=url)
    ok, error = channel_test(channel=channel)
    assert ok, error
    [mail] = smtp_server.messages
    assert mail["to"] == ["bob@example.test"]
    assert "PriceTracker test" in mail["message"]["Subject"]


def test_a_channel_failing_twice_then_working_delivers_exactly_once(user, product, listing, http_receiver):
    http_receiver.statuses = [503, 503]
    channel_add(owner=user, name="hook", url=json_url(http_receiver))
    fire(product, listing)
    notification = Notification.objects.get()
    # Play the broker: run the task; when it asks to be retried, run the retry it asked for.
    signature, countdowns, outcome = tasks.deliver_notification.s(notification.pk), [], None
    for _ in range(10):
        try:
            outcome = signature.apply(throw=True).get()
            break
        except Retry as retry:
            countdowns.append(retry.when)
            signature = retry.sig
    assert outcome == "sent"
    assert [r["status"] for r in http_receiver.wait_for(3)] == [503, 503, 200]  # one delivery
    assert len(countdowns) == 2 and all(0 <= c <= 600 for c in countdowns)  # backoff with jitter
    notification.refresh_from_db()
    assert notification.status == "sent" and notification.attempts == 3


def test_a_permanent_error_gives_up_at_once_and_shows_why(user, product, listing, http_receiver):
    http_receiver.statuses = [404]
    channel_add(owner=user, name="hook", url=json_url(http_receiver))
    fire(product, listing)
    notification = Notification.objects.get()
    result = tasks.deliver_notification.apply(args=[notification.pk])
    assert result.get() == "failed"
    notification.refresh_from_db()
    assert notification.status == "failed" and notification.attempts == 1
    assert "404" in notification.last_error
    assert len(http_receiver.requests) == 1


def test_transient_errors_stop_after_the_last_attempt(settings, user, product, listing, http_receiver):
    settings.DEALS_DELIVERY_MAX_ATTEMPTS = 3
    http_receiver.statuses = [503] * 10
    channel_add(owner=user, name="hook", url=json_url(http_receiver))
    fire(product, listing)
    notification = Notification.objects.get()
    for _ in range(2):
        with pytest.raises(delivery.TransientDeliveryError):
            delivery.notification_deliver(notification_id=notification.pk)
    assert delivery.notification_deliver(notification_id=notification.pk) == "failed"
    notification.refresh_from_db()
    assert notification.status == "failed" and notification.attempts == 3 and "503" in notification.last_error


class WorkerDied(BaseException):
    """Stands in for the process dying: no except clause in the code under test catches it."""


def test_a_task_redelivered_after_the_worker_died_mid_send_does_not_send_again(
    user, product, listing, http_receiver, monkeypatch
):
    channel_add(owner=user, name="hook", url=json_url(http_receiver))
    fire(product, listing)
    notification = Notification.objects.get()
    real_send = delivery.channel_send

    def send_then_die(**kwargs):
        real_send(**kwargs)  # the message is out...
        raise WorkerDied  # ...and the worker dies before it records "sent"

    monkeypatch.setattr(delivery, "channel_send", send_then_die)
    with pytest.raises(WorkerDied):
        tasks.deliver_notification.apply(args=[notification.pk], throw=True)
    monkeypatch.setattr(delivery, "channel_send", real_send)

    # The broker hands the task out again (acks_late): it must not send a second copy.
    assert tasks.deliver_notification.apply(args=[notification.pk]).get() == "skipped"
    # Later, the hourly run settles the stuck row visibly instead of resending it.
    requeued, given_up = delivery.notifications_recover_stale(now=timezone.now() + timedelta(hours=1))
    assert (requeued, given_up) == (0, 1)
    assert tasks.deliver_notification.apply(args=[notification.pk]).get() == "skipped"
    assert len(http_receiver.wait_for(1)) == 1
    notification.refresh_from_db()
    assert notification.status == "failed" and "may or may not have arrived" in notification.last_error


def test_a_worker_that_died_before_sending_leaves_it_to_be_sent_once(user, product, listing, http_receiver, monkeypatch):
    channel_add(owner=user, name="hook", url=json_url(http_receiver))
    fire(product, listing)
    notification = Notification.objects.get()

    def die_before_sending(*args, **kwargs):
        raise WorkerDied

    monkeypatch.setattr(delivery, "message_for_alert", die_before_sending)
    with pytest.raises(WorkerDied):
        delivery.notification_deliver(notification_id=notification.pk)
    monkeypatch.undo()
    assert delivery.notifications_recover_stale(now=timezone.now() + timedelta(hours=1)) == (1, 0)
    assert delivery.notification_deliver(notification_id=notification.pk) == "sent"
    assert delivery.notification_deliver(notification_id=notification.pk) == "skipped"
    assert len(http_receiver.wait_for(1)) == 1


def test_the_retry_button_sends_a_failed_notification_again(user, product, listing, http_receiver):
    http_receiver.statuses = [404]
    channel_add(owner=user, name="hook", url=json_url(http_receiver))
    fire(product, listing)
    notification = Notification.objects.get()
    assert delivery.notification_deliver(notification_id=notification.pk) == "failed"
    assert delivery.notification_retry(notification_id=notification.pk, owner=user) is not None
    assert delivery.notification_deliver(notification_id=notification.pk) == "sent"
    assert [r["status"] for r in http_receiver.wait_for(2)] == [404, 200]


def test_a_digest_channel_gets_one_message_for_all_alerts_of_the_hour(
    user, product, listing, http_receiver, eager_celery
):
    from deals.alerts.evaluation import price_point_evaluate

    channel_add(owner=user, name="digest", url=json_url(http_receiver), mode=Channel.Mode.DIGEST)
    AlertRule.objects.create(product=product, kind=AlertRule.Kind.TARGET, threshold=Decimal("95"))
    AlertRule.objects.create(product=product, kind=AlertRule.Kind.DROP_PERCENT, threshold=Decimal("5"))
    for i, price in enumerate([120, 90, 100, 80]):
        price_point_evaluate(price_point_id=record_price(listing, price, later(hours=i)).pk)
    assert Notification.objects.filter(digest=True).count() == 4  # two target dips, two drops
    assert delivery.notification_deliver(notification_id=Notification.objects.first().pk) == "skipped"
    summary = tasks.send_notifications.apply().get()
    assert summary["digests"] == 1
    [request] = http_receiver.wait_for(1)
    assert request["json"]["title"] == "PriceTracker: 4 price alerts in the last hour"  # alerts, not "deals"
    message = request["json"]["message"]
    assert message.count("Espresso machine:") == 4
    assert "€90.00" in message and "€80.00" in message
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert tasks.send_notifications.apply().get()["digests"] == 0
    assert len(http_receiver.requests) == 1


def test_quiet_hours_hold_digests_and_immediate_ones(user, product, listing, http_receiver):
    NotificationSettings.objects.create(user=user, quiet_start=time(0), quiet_end=time(23, 59), timezone="UTC")
    now_channel = channel_add(owner=user, name="now", url=json_url(http_receiver))
    digest_channel = channel_add(owner=user, name="digest", url=json_url(http_receiver), mode=Channel.Mode.DIGEST)
    fire(product, listing)
    immediate = Notification.objects.get(channel=now_channel)
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    # Even a notification that was due is held while it is quiet now.
    Notification.objects.update(deliver_after=noon - timedelta(hours=1))
    assert delivery.notification_deliver(notification_id=immediate.pk, now=noon) == "deferred"
    assert delivery.digest_deliver(channel_id=digest_channel.pk, now=noon) == 0
    assert http_receiver.requests == []
    immediate.refresh_from_db()
    assert immediate.deliver_after == noon.replace(hour=23, minute=59)
    after = noon.replace(hour=23, minute=59, second=30)
    assert delivery.notification_deliver(notification_id=immediate.pk, now=after) == "sent"
    assert delivery.digest_deliver(channel_id=digest_channel.pk, now=after) == 1
    assert len(http_receiver.wait_for(2)) == 2


def test_send_a_test_shows_the_channels_own_error(user, http_receiver):
    http_receiver.statuses = [401]
    channel = channel_add(owner=user, name="hook", url=json_url(http_receiver))
    ok, error = channel_test(channel=channel)
    assert not ok
    assert "error=401" in error
    assert "Wh00kS3cret" not in error
    channel.refresh_from_db()
    assert channel.last_test_ok is False and "401" in channel.last_test_error


def test_a_channel_pointing_at_a_private_address_is_refused(user, settings, monkeypatch):
    settings.FETCH_ALLOW_HOSTS = []
    with pytest.raises(ChannelError, match="private or local"):
        channel_add(owner=user, name="internal", url="json://10.1.2.3/hook")
    with pytest.raises(ChannelError, match="private or local"):
        channel_add(owner=user, name="loopback", url="json://127.0.0.1:9/hook")


def test_a_name_that_resolves_to_a_private_address_is_refused_when_sending(user, settings, monkeypatch):
    """DNS rebinding: the name looked public when saved but points inside at send time."""
    answers = {"hooks.example.test": "93.184.216.34"}

    def fake_resolve(host, port, *args, **kwargs):
        address = answers.get(host, "127.0.0.1" if host == "127.0.0.1" else None)
        if address is None:
            raise socket.gaierror("unknown test host")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 80))]

    connects = []

    def no_connect(self, address):
        connects.append(address)
        raise AssertionError(f"a connection to {address} was attempted")

    monkeypatch.setattr(netguard, "_resolve", fake_resolve)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    settings.FETCH_ALLOW_HOSTS = []
    channel = channel_add(owner=user, name="rebinding", url="json://hooks.example.test/hook")
    answers["hooks.example.test"] = "10.0.0.7"
    ok, error = channel_test(channel=channel)
    assert not ok
    assert "private or local" in error
    assert connects == []

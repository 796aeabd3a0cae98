from decimal import Decimal as D

import pytest

from deals.models import Channel, DealListing, DealMatch, DealNotification, DealSource, Watch
from deals.notifications import delivery
from deals.notifications.channels import channel_add
from deals.scout import selectors
from deals.scout.match import deal_notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def good_deal(user):
    source = DealSource.objects.create(name="Hot deals", kind="feed", url="http://127.0.0.1:9/rss")
    watch = Watch.objects.create(owner=user, query="rtx 4070", alert_min_score=15)
    listing = DealListing.objects.create(
        source=source, external_id="1", url="http://deals.test/1", title="RTX 4070 Eagle", price=D("499.00"), currency="USD"
    )
    return DealMatch.objects.create(
        watch=watch, listing=listing, score=18, confidence=0.6, comparable_price=D("610.00"), comparable_count=5,
        reason="18 % below the usual price; 5 comparable prices, median 610.00",
    )


def test_a_good_deal_reaches_the_webhook_once_with_its_price_and_why(user, good_deal, http_receiver):
    channel_add(owner=user, name="hook", url=f"json://127.0.0.1:{http_receiver.port}/hook")
    for _ in range(2):  # a scan seen twice, a task redelivered
        for notification_id in deal_notify(match=DealMatch.objects.get(pk=good_deal.pk)):
            assert delivery.deal_notification_deliver(notification_id=notification_id) == "sent"
    for row in DealNotification.objects.all():
        assert delivery.deal_notification_deliver(notification_id=row.pk) == "skipped"
    received = http_receiver.wait_for(1)
    assert len(received) == 1
    body = received[0]["json"]
    text = f"{body.get('title', '')} {body.get('message', '')}"
    assert "RTX 4070 Eagle" in text and "499" in text and "18 % below" in text
    assert DealNotification.objects.get().status == DealNotification.Status.SENT


def test_suspicious_or_weak_deals_are_not_notified(user, good_deal, http_receiver):
    channel_add(owner=user, name="hook", url=f"json://127.0.0.1:{http_receiver.port}/hook")
    DealMatch.objects.filter(pk=good_deal.pk).update(suspicious=True)
    assert deal_notify(match=DealMatch.objects.get(pk=good_deal.pk)) == []
    DealMatch.objects.filter(pk=good_deal.pk).update(suspicious=False, score=5)
    assert deal_notify(match=DealMatch.objects.get(pk=good_deal.pk)) == []
    assert not DealNotification.objects.exists()


def test_a_channel_that_fails_twice_then_works_delivers_one_copy(user, good_deal, http_receiver):
    channel_add(owner=user, name="hook", url=f"json://127.0.0.1:{http_receiver.port}/hook")
    http_receiver.statuses = [503, 503]
    [notification_id] = deal_notify(match=good_deal)
    outcomes = []
    for _ in range(3):
        try:
            outcomes.append(delivery.deal_notification_deliver(notification_id=notification_id))
        except delivery.TransientDeliveryError:
            outcomes.append("retry")
    assert outcomes == ["retry", "retry", "sent"]
    assert [r["status"] for r in http_receiver.wait_for(3)] == [503, 503, 200]
    assert DealNotification.objects.get().attempts == 3


def test_digest_channels_get_deals_together_in_the_hourly_send(user, good_deal, http_receiver):
    channel_add(owner=user, name="digest", url=f"json://127.0.0.1:{http_receiver.port}/d", mode=Channel.Mode.DIGEST)
    assert deal_notify(match=good_deal) == []  # nothing sent at once
    _alerts, immediate, digests = delivery.notifications_due()
    assert immediate == [] and len(digests) == 1
    assert delivery.digest_deliver(channel_id=digests[0]) == 1
    assert "RTX 4070 Eagle" in str(http_receiver.wait_for(1)[0]["json"])
    assert delivery.digest_deliver(channel_id=digests[0]) == 0


@pytest.mark.django_db(transaction=True)
def test_a_scan_notifies_a_matched_deal_through_the_task_path(user, feed_server, http_receiver, settings):
    from config.celery import app

    from .feeds_data import JSON_FEED

    channel_add(owner=user, name="hook", url=f"json://127.0.0.1:{http_receiver.port}/hook")
    from tracker.models import Listing, PricePoint, Product, Store

    product = Product.objects.create(owner=user, name="RTX 4070")
    tracked = Listing.objects.create(product=product, store=Store.objects.create(domain="s.test"), url="http://s.test/1")
    for price in ("600", "610", "620"):
        PricePoint.objects.create(listing=tracked, price=D(price), currency="USD", method="json-ld")
    Watch.objects.create(owner=user, query="rtx 4070 -shroud", product=product, alert_min_score=15)
    source = DealSource.objects.create(name="json", kind="json", url=feed_server.serve("/f.json", JSON_FEED, "application/json"))
    from deals import tasks

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        tasks.scan_source(source.pk)
        tasks.scan_source(source.pk)  # the same scan again: no second notification
    finally:
        app.conf.task_always_eager = before
    received = http_receiver.wait_for(2, timeout=3)
    titles = [str(r["json"]) for r in received]
    # j2 at 489 is ~20 % under the usual ~600 and notified; j1 at 519 is ~14 % under: below the threshold
    assert len(received) == 1 and "RTX 4070 Founders Edition" in titles[0]
    assert selectors.deals_for(owner=user).count() == 2

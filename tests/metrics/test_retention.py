"""Retention of every table that grows: old rows go, recent ones stay, referenced ones stay."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.sessions.models import Session
from django.utils import timezone

from deals.models import (
    AlertEvent,
    AlertRule,
    Channel,
    DealListing,
    DealMatch,
    DealNotification,
    DealSource,
    Notification,
    Watch,
)
from metrics.heartbeats import heartbeat_record
from metrics.models import Heartbeat
from metrics.retention import retention_apply
from tracker.models import Listing, PricePoint, Product, Store

NOW = timezone.now()
OLD = NOW - timedelta(days=400)
RECENT = NOW - timedelta(days=2)


@pytest.fixture
def retention(settings):
    settings.LOGIN_AUDIT_RETENTION_DAYS = 90
    settings.NOTIFICATION_RETENTION_DAYS = 90
    settings.ALERT_EVENT_RETENTION_DAYS = 365
    settings.DEAL_RETENTION_DAYS = 90
    settings.HEARTBEAT_RETENTION_DAYS = 7
    settings.LLM_CALL_RETENTION_DAYS = 365


def _aged(model, when, **fields):
    row = model.objects.create(**fields)
    date_field = {"AccessAttempt": "attempt_time", "AccessFailureLog": "attempt_time", "AccessLog": "attempt_time"}
    # auto_now_add fields ignore what create() is given: set the age afterwards.
    model.objects.filter(pk=row.pk).update(**{date_field.get(model.__name__, "created_at"): when})
    return row


@pytest.mark.django_db
def test_login_audit_rows_older_than_the_retention_go(retention):
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        extra = {"failures_since_start": 3} if model is AccessAttempt else {}
        for name, when in (("old", OLD), ("recent", RECENT)):
            _aged(model, when, username=name, ip_address="127.0.0.1", user_agent="t", path_info="/", **extra)

    deleted = retention_apply(now=NOW)

    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        assert list(model.objects.values_list("username", flat=True)) == ["recent"], model.__name__
    assert deleted["axes.AccessLog"] == 1


def _event(user, when, n: int) -> AlertEvent:
    store, _ = Store.objects.get_or_create(domain="shop.test")
    product = Product.objects.create(owner=user, name=f"P{n}")
    listing = Listing.objects.create(product=product, store=store, url=f"http://shop.test/{n}")
    point = PricePoint.objects.create(listing=listing, price=Decimal("10.00"), currency="EUR", checked_at=when,
                                      method="test")
    rule = AlertRule.objects.create(product=product, kind=AlertRule.Kind.TARGET, threshold=Decimal("20"))
    return AlertEvent.objects.create(rule=rule, product=product, listing=listing, price_point=point,
                                     kind=rule.kind, reason="below target", new_price=point.price,
                                     created_at=when)


@pytest.mark.django_db
def test_settled_old_notifications_go_then_events_nothing_points_at(retention, user):
    channel = Channel.objects.create(owner=user, name="c")
    old_sent = _event(user, OLD, 1)
    Notification.objects.create(event=old_sent, channel=channel, status="sent", created_at=OLD)
    old_pending = _event(user, OLD, 2)  # its notification is still waiting: both stay
    Notification.objects.create(event=old_pending, channel=channel, status="pending", created_at=OLD)
    old_failed = _event(user, OLD, 3)
    Notification.objects.create(event=old_failed, channel=channel, status="failed", created_at=OLD)
    recent = _event(user, RECENT, 4)
    Notification.objects.create(event=recent, channel=channel, status="sent", created_at=RECENT)

    retention_apply(now=NOW)

    assert set(Notification.objects.values_list("status", "event_id")) == {("pending", old_pending.pk),
                                                                          ("sent", recent.pk)}
    assert set(AlertEvent.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
    # Twice is the same as once.
    assert retention_apply(now=NOW)["deals.Notification"] == 0


@pytest.mark.django_db
def test_deal_matches_and_gone_listings_go_unless_something_refers_to_them(retention, user):
    channel = Channel.objects.create(owner=user, name="c")
    source = DealSource.objects.create(owner=user, name="s", url="http://127.0.0.1:1/feed")
    watch = Watch.objects.create(owner=user, query="espresso")

    def listing(n: int, *, gone_at=None, status="active") -> DealListing:
        return DealListing.objects.create(source=source, external_id=str(n), title=f"L{n}", status=status,
                                          gone_at=gone_at)

    gone_long_ago = listing(1, gone_at=OLD, status="gone")
    gone_matched = listing(2, gone_at=OLD, status="gone")  # its match has a pending notification
    match = DealMatch.objects.create(watch=watch, listing=gone_matched, matched_at=OLD)
    DealNotification.objects.create(match=match, channel=channel, status="pending", created_at=OLD)
    gone_recently = listing(3, gone_at=RECENT, status="gone")
    still_listed = listing(4)
    DealListing.objects.filter(pk=still_listed.pk).update(first_seen_at=OLD, last_seen_at=OLD)
    old_match = DealMatch.objects.create(watch=watch, listing=listing(5), matched_at=OLD)
    DealNotification.objects.create(match=old_match, channel=channel, status="sent", created_at=OLD)

    retention_apply(now=NOW)

    assert set(DealListing.objects.values_list("external_id", flat=True)) == {"2", "3", "4", "5"}
    assert list(DealMatch.objects.values_list("pk", flat=True)) == [match.pk]
    assert list(DealNotification.objects.values_list("status", flat=True)) == ["pending"]
    assert not DealListing.objects.filter(pk=gone_long_ago.pk).exists()
    assert DealListing.objects.filter(pk=gone_recently.pk).exists()


@pytest.mark.django_db
def test_heartbeats_of_long_stopped_processes_and_expired_sessions_go(retention):
    heartbeat_record(name="alive@test", kind="worker", queues=["default"])
    heartbeat_record(name="dead@test", kind="worker", queues=["default"])
    Heartbeat.objects.filter(name="dead@test").update(seen_at=NOW - timedelta(days=30))
    Session.objects.create(session_key="old", session_data="x", expire_date=NOW - timedelta(days=1))
    Session.objects.create(session_key="live", session_data="x", expire_date=NOW + timedelta(days=1))

    retention_apply(now=NOW)

    assert list(Heartbeat.objects.values_list("name", flat=True)) == ["alive@test"]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


@pytest.mark.django_db
def test_zero_days_keeps_everything(retention, settings):
    settings.HEARTBEAT_RETENTION_DAYS = 0
    heartbeat_record(name="dead@test", kind="worker")
    Heartbeat.objects.update(seen_at=NOW - timedelta(days=3000))
    retention_apply(now=NOW)
    assert Heartbeat.objects.count() == 1


@pytest.mark.django_db
def test_the_weekly_housekeeping_task_applies_retention(retention, user):
    from metrics.tasks import cleanup_old_logs

    _aged(AccessLog, OLD, username="old", ip_address="127.0.0.1", user_agent="t", path_info="/")
    result = cleanup_old_logs()
    assert result["axes.AccessLog"] == 1 and "checks" in result
    assert not AccessLog.objects.exists()

"""Judging new prices against rules in the database: first checks, re-arming, doubtful prices."""

from datetime import UTC, time, timedelta
from decimal import Decimal

import pytest

from deals.alerts.evaluation import price_point_evaluate, product_quality, products_quality
from deals.models import AlertEvent, AlertRule, Channel, Notification, NotificationSettings
from tracker import signals
from tracker.models import CheckLog, Listing

from ..conftest import T0, later, listing_for, record_price

pytestmark = pytest.mark.django_db


def rule(product, kind=AlertRule.Kind.TARGET, threshold="100", **kwargs) -> AlertRule:
    return AlertRule.objects.create(
        product=product, kind=kind, threshold=Decimal(threshold) if threshold else None, **kwargs
    )


def feed(listing, prices, start_hours=0):
    """Record and judge prices one by one; return the events fired for each."""
    fired = []
    for i, price in enumerate(prices):
        point = record_price(listing, price, later(hours=start_hours + i))
        fired.append(price_point_evaluate(price_point_id=point.pk))
    return fired


def test_the_first_check_below_target_alerts(product, listing):
    rule(product)
    [events] = feed(listing, [90])
    assert len(events) == 1
    event = events[0]
    assert event.new_price == Decimal("90") and event.currency == "EUR" and event.old_price is None
    assert "target of 100.00" in event.reason


def test_a_price_staying_below_alerts_once_and_a_second_dip_alerts_again(product, listing):
    rule(product)
    fired = feed(listing, [90, 85, 95, 120, 99, 98])
    assert [len(e) for e in fired] == [1, 0, 0, 0, 1, 0]
    assert AlertEvent.objects.count() == 2


def test_judging_the_same_price_twice_alerts_once(product, listing):
    rule(product)
    point = record_price(listing, 90, later())
    assert len(price_point_evaluate(price_point_id=point.pk)) == 1
    assert price_point_evaluate(price_point_id=point.pk) == []
    assert AlertEvent.objects.count() == 1


def test_an_older_price_arriving_late_does_not_move_the_rule_back(product, listing):
    the_rule = rule(product)
    old = record_price(listing, 120, later(hours=0))
    new = record_price(listing, 90, later(hours=1))
    assert len(price_point_evaluate(price_point_id=new.pk)) == 1
    assert price_point_evaluate(price_point_id=old.pk) == []
    the_rule.refresh_from_db()
    assert the_rule.armed is False  # still "below target", not re-armed by the stale 120


def test_a_flagged_listing_never_alerts(product, listing):
    rule(product)
    point = record_price(listing, 50, later())
    Listing.objects.filter(pk=listing.pk).update(status=Listing.Status.FLAGGED)
    assert price_point_evaluate(price_point_id=point.pk) == []


def test_a_price_from_a_check_that_was_not_ok_never_alerts(product, listing):
    rule(product)
    point = record_price(listing, 50, later())
    CheckLog.objects.filter(pk=point.check_log_id).update(outcome=CheckLog.Outcome.FLAGGED)
    assert price_point_evaluate(price_point_id=point.pk) == []


def test_an_all_store_rule_judges_the_best_price_across_stores(product, listing):
    other = listing_for(product, "shop-b.test")
    rule(product)
    record_price(other, 90, later(hours=0))
    first = price_point_evaluate(price_point_id=other.prices.first().pk)
    assert len(first) == 1
    # The other store going above target does not re-arm while the cheapest stays below.
    point = record_price(listing, 130, later(hours=1))
    assert price_point_evaluate(price_point_id=point.pk) == []
    point = record_price(other, 95, later(hours=2))
    assert price_point_evaluate(price_point_id=point.pk) == []
    assert AlertEvent.objects.count() == 1


def test_a_store_rule_ignores_other_stores(product, listing):
    other = listing_for(product, "shop-b.test")
    rule(product, store=listing.store)
    point = record_price(other, 50, later())
    assert price_point_evaluate(price_point_id=point.pk) == []
    point = record_price(listing, 99, later(hours=1))
    assert len(price_point_evaluate(price_point_id=point.pk)) == 1


def test_drop_event_carries_old_and_new_price_and_quality(product, listing):
    rule(product, kind=AlertRule.Kind.DROP_PERCENT, threshold="10")
    for day in range(6):
        record_price(listing, 100, later(days=day))
    point = record_price(listing, 80, later(days=10))
    [event] = price_point_evaluate(price_point_id=point.pk)
    assert (event.old_price, event.new_price) == (Decimal("100"), Decimal("80"))
    assert event.quality == "all_time_low" and event.quality_label == "Lowest in 10 days"


def test_each_enabled_channel_gets_one_notification_per_event(product, listing, user, other_user):
    Channel.objects.create(owner=user, name="now", url_encrypted="x")
    Channel.objects.create(owner=user, name="hourly", url_encrypted="x", mode=Channel.Mode.DIGEST)
    Channel.objects.create(owner=user, name="off", url_encrypted="x", enabled=False)
    Channel.objects.create(owner=other_user, name="not theirs", url_encrypted="x")
    rule(product)
    [[event]] = feed(listing, [90])
    rows = {n.channel.name: n for n in Notification.objects.filter(event=event)}
    assert set(rows) == {"now", "hourly"}
    assert rows["hourly"].digest and not rows["now"].digest
    assert all(n.status == Notification.Status.PENDING for n in rows.values())


def test_quiet_hours_hold_the_notification_back_until_they_end(product, listing, user, monkeypatch):
    from datetime import datetime

    import deals.alerts

    NotificationSettings.objects.create(user=user, quiet_start=time(22), quiet_end=time(7), timezone="UTC")
    Channel.objects.create(owner=user, name="now", url_encrypted="x")
    rule(product)
    night = datetime(2026, 1, 1, 23, 30, tzinfo=UTC)
    monkeypatch.setattr(deals.alerts.evaluation.timezone, "now", lambda: night)
    feed(listing, [90])
    notification = Notification.objects.get()
    assert notification.deliver_after == datetime(2026, 1, 2, 7, 0, tzinfo=UTC)


def test_the_check_finished_signal_judges_only_ok_prices(
    product, listing, eager_celery, django_capture_on_commit_callbacks
):
    rule(product)
    point = record_price(listing, 90, later())
    with django_capture_on_commit_callbacks(execute=True):
        signals.check_finished.send(
            sender=CheckLog, check_id=point.check_log_id, listing_id=listing.pk, product_id=product.pk,
            store=listing.store.domain, method="json-ld", price_point_id=None, outcome="flagged",
        )
    assert AlertEvent.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        signals.check_finished.send(
            sender=CheckLog, check_id=point.check_log_id, listing_id=listing.pk, product_id=product.pk,
            store=listing.store.domain, method="json-ld", price_point_id=point.pk, outcome="ok",
        )
    assert AlertEvent.objects.count() == 1


def test_product_quality_needs_history_then_names_the_low(product, listing):
    record_price(listing, 100, later())
    assert product_quality(product=product, at=later(hours=1)).label == "Not enough history yet"
    for day in range(1, 9):
        record_price(listing, 100 - day, later(days=day))
    listing.refresh_from_db()
    assert product_quality(product=product, at=later(days=9)).level == "all_time_low"


def test_a_product_without_an_enabled_rule_queues_no_judgement(product, listing, monkeypatch):
    from deals import tasks

    queued = []
    monkeypatch.setattr(tasks, "enqueue_evaluation", lambda *, price_point_id, **_: queued.append(price_point_id))
    point = record_price(listing, 90, later())

    def check_finished() -> None:
        signals.check_finished.send(
            sender=CheckLog, check_id=point.check_log_id, listing_id=listing.pk, product_id=product.pk,
            store=listing.store.domain, method="json-ld", price_point_id=point.pk, outcome="ok",
        )

    check_finished()
    AlertRule.objects.create(product=product, kind=AlertRule.Kind.TARGET, threshold=Decimal("95"), enabled=False)
    check_finished()
    assert queued == []
    AlertRule.objects.update(enabled=True)
    check_finished()
    assert queued == [point.pk]


def test_whether_a_product_has_rules_is_asked_once_a_version_and_any_rule_change_makes_a_new_one(
    product, django_assert_num_queries
):
    from deals.alerts.evaluation import product_has_rules
    from tracker.models import Product

    def version():  # what a check reads with its listing
        return Product.objects.get(pk=product.pk).updated_at

    first = version()
    assert product_has_rules(product_id=product.pk, version=first) is False
    with django_assert_num_queries(0):
        assert product_has_rules(product_id=product.pk, version=first) is False

    # Saved anywhere (another process's answers are not cleared): the product moves on.
    added = rule(product)
    switched = version()
    assert switched != first
    assert product_has_rules(product_id=product.pk, version=switched) is True
    with django_assert_num_queries(0):
        assert product_has_rules(product_id=product.pk, version=switched) is True
    added.enabled = False
    added.save()
    assert version() != switched and product_has_rules(product_id=product.pk, version=version()) is False
    added.enabled = True
    added.save()
    assert product_has_rules(product_id=product.pk, version=version()) is True
    added.delete()
    assert product_has_rules(product_id=product.pk, version=version()) is False


def test_deal_quality_judges_the_cheapest_store_through_the_rates_not_by_its_raw_number(product):
    """$150 at one store, ¥15,000 (about €94 against $150's €136) at another: the yen price is
    the cheapest, and it is at its lowest; the raw numbers would pick the dollar price."""
    from datetime import date

    from tracker.models import ExchangeRate

    for code, rate in {"USD": "1.10", "JPY": "160"}.items():
        ExchangeRate.objects.create(currency=code, per_euro=Decimal(rate), published_on=date(2026, 12, 4))
    dollars, yen = listing_for(product, "us-shop.test"), listing_for(product, "jp-shop.test")
    for day in range(10):
        at = T0 + timedelta(days=day)
        record_price(dollars, 140 if day < 9 else 150, at, currency="USD")  # up: not a deal
        record_price(yen, 20000 if day < 9 else 15000, at, currency="JPY")  # down to its lowest
    judged = products_quality(products=[product], at=T0 + timedelta(days=9, hours=1))[product.pk]
    assert judged.label == "Lowest in 9 days", judged


def test_a_rule_edited_after_it_fired_is_judged_at_once_and_fires_again_on_the_same_price(
    product, listing, eager_celery, django_capture_on_commit_callbacks
):
    from deals import tasks
    from deals.alerts.evaluation import rule_save

    target = rule(product)
    point = record_price(listing, 90, later())
    assert len(price_point_evaluate(price_point_id=point.pk)) == 1
    # Checks that only confirm 90 do not fire again: the rule is not armed.
    assert price_point_evaluate(price_point_id=point.pk, at=later(hours=1)) == []

    target.threshold = Decimal("95")
    with django_capture_on_commit_callbacks(execute=True):
        rule_save(rule=target)
        tasks.enqueue_rule_judgement(rule=target)

    events = list(AlertEvent.objects.filter(rule=target).order_by("pk"))
    assert [(event.price_point_id, event.rule_revision) for event in events] == [(point.pk, 0), (point.pk, 1)]
    assert "target of 95.00" in events[1].reason
    # Judging it again (a redelivered task, the next confirming check) fires nothing more.
    assert price_point_evaluate(price_point_id=point.pk, at=later(hours=2)) == []
    assert AlertEvent.objects.filter(rule=target).count() == 2


def test_a_rule_added_on_the_rules_page_is_judged_against_the_current_price_at_once(
    client, user, product, listing, eager_celery, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    record_price(listing, 90, later())
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("deals:rules", args=[product.pk]), {"kind": "target", "threshold": "99", "window_days": "30"})
    assert AlertEvent.objects.filter(product=product).count() == 1
    # Turning it off and on again judges it again, as a new revision: the price still meets it.
    the_rule = AlertRule.objects.get(product=product)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("deals:rule_toggle", args=[the_rule.pk]))
    assert AlertEvent.objects.filter(product=product).count() == 2

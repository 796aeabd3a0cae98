"""Old check logs go; repeated prices are merged without changing the history's shape."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from metrics.housekeeping import checklogs_cleanup, price_history_compact
from tracker.models import CheckLog, Listing, PricePoint, Product, Store


@pytest.fixture
def listing(user):
    store = Store.objects.create(domain="shop.test")
    product = Product.objects.create(owner=user, name="Kettle")
    return Listing.objects.create(product=product, store=store, url="http://shop.test/k")


def _prices(listing, values: list[str], *, start, step=timedelta(hours=1)) -> list[PricePoint]:
    return [
        PricePoint.objects.create(listing=listing, price=Decimal(v), currency="EUR", in_stock=True,
                                  checked_at=start + i * step, method="json-ld")
        for i, v in enumerate(values)
    ]


def _series(listing) -> list[tuple]:
    return list(PricePoint.objects.filter(listing=listing).order_by("checked_at").values_list("checked_at", "price"))


def _step_value(series: list[tuple], when) -> Decimal:
    """The price a step chart shows at a moment: the last point at or before it."""
    return [price for at, price in series if at <= when][-1]


@pytest.mark.django_db
def test_compaction_merges_each_run_into_one_point_and_the_chart_looks_the_same(listing):
    from tracker.selectors import listing_history

    start = timezone.now() - timedelta(days=30)
    values = ["10"] * 6 + ["8"] * 4 + ["10"] * 5 + ["9"]
    _prices(listing, values, start=start)
    before = _series(listing)
    deleted = price_history_compact(older_than_days=7)
    assert deleted == 5 + 3 + 4
    merged = list(
        PricePoint.objects.filter(listing=listing).order_by("checked_at")
        .values_list("price", "confirmations", "checked_at", "last_confirmed_at")
    )
    assert [(p, n) for p, n, _, _ in merged] == [(Decimal("10"), 6), (Decimal("8"), 4), (Decimal("10"), 5), (Decimal("9"), 1)]
    # Each point still says when its price was last confirmed: the run's last check.
    assert merged[0][3] == start + timedelta(hours=5)
    after = listing_history(listing=listing)
    for i in range(len(values)):
        when = start + timedelta(hours=i, minutes=30)
        assert _step_value(after, when) == _step_value(before, when)
    assert [at for at, _ in after] == [at for at, _ in before if at in {t for t, _ in after}]
    # A second run has nothing left to merge.
    assert price_history_compact(older_than_days=7) == 0


@pytest.mark.django_db
def test_recent_prices_are_not_compacted(listing):
    _prices(listing, ["10"] * 5, start=timezone.now() - timedelta(hours=10))
    assert price_history_compact(older_than_days=7) == 0
    assert PricePoint.objects.filter(listing=listing).count() == 5


@pytest.mark.django_db
def test_a_price_point_an_alert_refers_to_is_kept_with_its_alert(listing):
    from django.apps import apps

    # get_model, not a skip: a renamed model must fail this test, not silence it.
    AlertRule, AlertEvent = apps.get_model("deals", "AlertRule"), apps.get_model("deals", "AlertEvent")
    points = _prices(listing, ["10"] * 5, start=timezone.now() - timedelta(days=20))
    rule = AlertRule.objects.create(product=listing.product, kind="target", threshold=Decimal("11"))
    event = AlertEvent.objects.create(rule=rule, product=listing.product, listing=listing, price_point=points[2],
                                      kind="target", reason="at or below 11", new_price=Decimal("10"))
    # 1 merges into 0; 2 is referred to, so it stays and starts its own run (3 and 4 merge into it).
    assert price_history_compact(older_than_days=7) == 3
    assert AlertEvent.objects.filter(id=event.id).exists()
    assert list(
        PricePoint.objects.filter(listing=listing).order_by("checked_at").values_list("id", "confirmations")
    ) == [(points[0].id, 2), (points[2].id, 3)]


@pytest.mark.django_db
def test_cleanup_deletes_finished_checks_older_than_the_retention_and_keeps_prices(listing):
    old = timezone.now() - timedelta(days=100)
    kept_running = CheckLog.objects.create(listing=listing, outcome="running", queued_at=old)
    old_done = CheckLog.objects.create(listing=listing, outcome="ok", queued_at=old, finished_at=old)
    price = PricePoint.objects.create(listing=listing, check_log=old_done, price=Decimal("5"), currency="EUR",
                                      checked_at=old, method="json-ld")
    recent = CheckLog.objects.create(listing=listing, outcome="ok", finished_at=timezone.now())
    result = checklogs_cleanup(older_than_days=90)
    assert result["checks"] == 1
    assert set(CheckLog.objects.values_list("id", flat=True)) == {kept_running.id, recent.id}
    price.refresh_from_db()
    assert price.check_log_id is None and price.price == Decimal("5")
    assert checklogs_cleanup(older_than_days=90)["checks"] == 0


@pytest.mark.django_db
def test_checks_that_only_confirmed_a_price_go_after_their_shorter_retention(listing):
    ten_days_ago = timezone.now() - timedelta(days=10)
    found = CheckLog.objects.create(listing=listing, outcome="ok", queued_at=ten_days_ago, finished_at=ten_days_ago)
    point = PricePoint.objects.create(listing=listing, check_log=found, price=Decimal("5"), currency="EUR",
                                      checked_at=ten_days_ago, method="json-ld")
    confirmed = CheckLog.objects.create(listing=listing, outcome="ok", queued_at=ten_days_ago,
                                        finished_at=ten_days_ago, price_seen=point)
    not_modified = CheckLog.objects.create(listing=listing, outcome="unchanged", queued_at=ten_days_ago,
                                           finished_at=ten_days_ago, checks=4)
    failed = CheckLog.objects.create(listing=listing, outcome="error", queued_at=ten_days_ago, finished_at=ten_days_ago)
    recent = CheckLog.objects.create(listing=listing, outcome="ok", finished_at=timezone.now(), price_seen=point)
    PricePoint.objects.filter(pk=point.pk).update(confirmations=3, last_confirmed_at=recent.finished_at)

    result = checklogs_cleanup(older_than_days=90, confirmations_older_than_days=7)

    assert result["checks"] == 2 and not CheckLog.objects.filter(pk__in=[confirmed.pk, not_modified.pk]).exists()
    # The check that found the price, a failure and the recent confirmation stay.
    assert set(CheckLog.objects.values_list("id", flat=True)) == {found.id, failed.id, recent.id}
    point.refresh_from_db()
    assert (point.confirmations, point.last_confirmed_at) == (3, recent.finished_at)


def test_periodic_tasks_are_declared_for_housekeeping(settings):
    tasks = {spec["task"] for spec in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"metrics.tasks.cleanup_old_logs", "metrics.tasks.compact_price_history",
            "metrics.tasks.backup_database"} <= tasks

"""Service objectives, each measured live against what PriceTracker recorded.

Every objective answers PASS, FAIL or NO DATA with the measured value; thresholds come from
settings (QUALITY_*).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from tracker.models import CheckLog, PricePoint, Store

from . import selectors

PASS, FAIL, NO_DATA = "PASS", "FAIL", "NO DATA"


@dataclass
class Objective:
    key: str
    title: str
    target: str
    measured: str
    status: str
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _check_success(*, since: datetime, now: datetime) -> Objective:
    minimum = settings.QUALITY_CHECK_SUCCESS_MIN
    blocking = set(
        CheckLog.objects.filter(finished_at__gte=since, outcome=CheckLog.Outcome.BLOCKED)
        .values_list("listing__store_id", flat=True)
        .distinct()
    )
    qs = CheckLog.objects.filter(
        finished_at__gte=since, finished_at__lte=now, outcome__in=selectors.FINISHED_OUTCOMES
    ).exclude(listing__store_id__in=blocking)
    # A row of folded routine checks stands for `checks` of them.
    counted = qs.aggregate(total=Sum("checks"), good=Sum("checks", filter=Q(outcome__in=selectors.GOOD_OUTCOMES)))
    total, good = counted["total"] or 0, counted["good"] or 0
    target = f"≥ {minimum:.0%} of checks succeed (shops that block us excluded)"
    if not total:
        return Objective("check_success", "Check success", target, "no checks", NO_DATA)
    rate = good / total
    return Objective(
        "check_success", "Check success", target, f"{rate:.1%} ({good} of {total})",
        PASS if rate >= minimum else FAIL,
        f"{len(blocking)} blocking shop(s) excluded" if blocking else "",
    )


def _high_priority_start(*, since: datetime, now: datetime) -> Objective:
    limit = settings.QUALITY_HIGH_START_P95_SECONDS
    delays = selectors.high_priority_start_delays(since=since, until=now)
    target = f"p95 of high-priority start delay ≤ {limit:.0f} s"
    p95 = selectors.percentile(delays, 95)
    if p95 is None:
        return Objective("high_priority_start", "High-priority checks start on time", target, "no checks", NO_DATA)
    return Objective(
        "high_priority_start", "High-priority checks start on time", target,
        f"p95 {p95:.1f} s over {len(delays)} check(s)", PASS if p95 <= limit else FAIL,
    )


def _no_doubtful_prices(*, since: datetime, now: datetime) -> Objective:
    bad_outcomes = (CheckLog.Outcome.BLOCKED, CheckLog.Outcome.FLAGGED)
    count = PricePoint.objects.filter(
        Q(checked_at__gte=since, checked_at__lte=now),
        Q(check_log__outcome__in=bad_outcomes),
    ).count()
    return Objective(
        "no_doubtful_prices", "No prices from blocked or flagged pages", "0 such prices",
        f"{count} price(s)", PASS if count == 0 else FAIL,
    )


def _notification_delivery(*, since: datetime, now: datetime) -> Objective:
    minimum = settings.QUALITY_NOTIFY_DELIVERY_MIN
    target = f"≥ {minimum:.0%} of notifications delivered"
    counts = selectors.notification_delivery(since=since, until=now)
    if counts is None or sum(counts) == 0:
        return Objective("notification_delivery", "Notification delivery", target, "no notifications", NO_DATA)
    sent, failed = counts
    rate = sent / (sent + failed)
    return Objective(
        "notification_delivery", "Notification delivery", target,
        f"{rate:.1%} ({sent} sent, {failed} failed)", PASS if rate >= minimum else FAIL,
    )


def _broken_stores(*, since: datetime, now: datetime) -> Objective:
    hours = settings.QUALITY_BROKEN_STORE_MAX_HOURS
    too_long = Store.objects.filter(
        extraction_status=Store.ExtractionStatus.BROKEN,
        extraction_status_since__lt=now - timedelta(hours=hours),
    ).values_list("domain", flat=True)
    names = list(too_long[:20])
    return Objective(
        "broken_stores", "No store with broken extraction for long", f"0 stores broken > {hours:.0f} h",
        f"{len(names)} store(s)", PASS if not names else FAIL, ", ".join(names),
    )


OBJECTIVES = (_check_success, _high_priority_start, _no_doubtful_prices, _notification_delivery, _broken_stores)


def objectives_evaluate(*, now: datetime | None = None) -> list[Objective]:
    """Measure every objective over the last QUALITY_WINDOW_HOURS. Read-only."""
    now = now or timezone.now()
    since = now - timedelta(hours=settings.QUALITY_WINDOW_HOURS)
    return [objective(since=since, now=now) for objective in OBJECTIVES]

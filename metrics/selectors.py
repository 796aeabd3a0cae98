"""Read-only queries behind the dashboard, the JSON API, the quality page and /metrics."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncDay, TruncHour
from django.utils import timezone

from deals.models import AlertEvent, DealMatch, Notification
from tracker.models import CheckLog, LLMCall, Store

GOOD_OUTCOMES = (CheckLog.Outcome.OK, CheckLog.Outcome.UNCHANGED)
FINISHED_OUTCOMES = (
    CheckLog.Outcome.OK,
    CheckLog.Outcome.UNCHANGED,
    CheckLog.Outcome.NO_PRICE,
    CheckLog.Outcome.FLAGGED,
    CheckLog.Outcome.ERROR,
    CheckLog.Outcome.BLOCKED,
)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _buckets(*, since: datetime, until: datetime, step: timedelta) -> list[datetime]:
    start = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if step >= timedelta(days=1):
        start = start.replace(hour=0)
    out = []
    while start <= until and len(out) < 2000:
        out.append(start)
        start += step
    return out


def bucket_for(days: int) -> tuple[str, timedelta]:
    return ("hour", timedelta(hours=1)) if days <= 3 else ("day", timedelta(days=1))


def _counts_per_bucket(
    qs, *, field: str, key: str, keys: Sequence[str], since: datetime, until: datetime, bucket: str,
    weight: str | None = None,
) -> list[dict]:
    """Rows of `qs` counted per hour/day of `field` and value of `key` (each row counting as
    its `weight` field when given); every bucket present."""
    trunc = TruncHour if bucket == "hour" else TruncDay
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    rows = (
        qs.filter(**{f"{field}__gte": since, f"{field}__lte": until})
        .annotate(t=trunc(field, tzinfo=UTC))
        .values("t", key)
        .annotate(n=Sum(weight) if weight else Count("id"))
    )
    counts: dict[datetime, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[row["t"]][row[key]] = row["n"]
    return [
        {"t": t.isoformat(), **{k: counts.get(t, {}).get(k, 0) for k in keys}}
        for t in _buckets(since=since, until=until, step=step)
    ]


def checks_by_outcome(*, since: datetime, until: datetime, bucket: str = "hour") -> list[dict]:
    """Finished checks per hour (or day) and outcome, every bucket present (zeros included).
    A row of folded routine checks counts as its `checks` (they all finished in its hour)."""
    return _counts_per_bucket(
        CheckLog.objects.all(), field="finished_at", key="outcome", keys=FINISHED_OUTCOMES,
        since=since, until=until, bucket=bucket, weight="checks",
    )


def store_success_rates(*, since: datetime, until: datetime | None = None) -> list[dict]:
    """Per store: finished checks, good ones (price recorded or page unchanged), the rate."""
    until = until or timezone.now()
    rows = (
        CheckLog.objects.filter(
            finished_at__gte=since, finished_at__lte=until, outcome__in=FINISHED_OUTCOMES
        )
        .values("listing__store__domain")
        .annotate(total=Sum("checks"), good=Coalesce(Sum("checks", filter=Q(outcome__in=GOOD_OUTCOMES)), 0),
                  blocked=Coalesce(Sum("checks", filter=Q(outcome=CheckLog.Outcome.BLOCKED)), 0))
        .order_by("listing__store__domain")
    )
    return [
        {
            "store": row["listing__store__domain"],
            "total": row["total"],
            "good": row["good"],
            "blocked": row["blocked"],
            "rate": round(row["good"] / row["total"], 4) if row["total"] else None,
        }
        for row in rows
    ]


def stores_broken(*, now: datetime | None = None) -> list[dict]:
    """Stores whose extraction is broken, with how long (hours) it has been so."""
    now = now or timezone.now()
    out = []
    for store in Store.objects.filter(extraction_status=Store.ExtractionStatus.BROKEN).order_by("domain"):
        since = store.extraction_status_since
        out.append(
            {
                "store": store.domain,
                "since": since.isoformat() if since else None,
                "hours": round((now - since).total_seconds() / 3600, 1) if since else None,
                "circuit": store.circuit_state,
            }
        )
    return out


def check_durations(*, since: datetime, until: datetime) -> dict:
    """p50/p95 of check duration (ms) per day, from the check log (a row of folded routine
    checks counts as that many checks of their mean duration)."""
    rows = CheckLog.objects.filter(
        finished_at__gte=since, finished_at__lte=until, duration_ms__isnull=False
    ).values_list("finished_at", "duration_ms", "checks")[:200_000]
    by_day: dict[str, list[int]] = defaultdict(list)
    for finished_at, ms, checks in rows:
        by_day[finished_at.astimezone(UTC).date().isoformat()].extend([ms] * checks)
    days = []
    for t in _buckets(since=since, until=until, step=timedelta(days=1)):
        values = by_day.get(t.date().isoformat(), [])
        days.append({"t": t.isoformat(), "p50": percentile(values, 50), "p95": percentile(values, 95),
                     "n": len(values)})
    return {"per_day": days}


def high_priority_start_delays(*, since: datetime, until: datetime) -> list[float]:
    """Seconds between queueing and start of high-priority checks that started in the window
    (a row of folded routine checks counts as that many checks of its latest delay)."""
    rows = CheckLog.objects.filter(
        listing__priority="high", started_at__gte=since, started_at__lte=until
    ).values_list("queued_at", "started_at", "checks")[:200_000]
    return [max((started - queued).total_seconds(), 0.0) for queued, started, checks in rows for _ in range(checks)]


def notifications_by_day(*, since: datetime, until: datetime) -> list[dict] | None:
    return _counts_per_bucket(
        Notification.objects.all(), field="created_at", key="status",
        keys=("sent", "failed", "pending", "sending"), since=since, until=until, bucket="day",
    )


def notification_delivery(*, since: datetime, until: datetime) -> tuple[int, int] | None:
    """(delivered, failed) among notifications that reached an end state in the window."""
    qs = Notification.objects.filter(created_at__gte=since, created_at__lte=until)
    return qs.filter(status="sent").count(), qs.filter(status="failed").count()


def deals_by_day(*, since: datetime, until: datetime) -> list[dict] | None:
    """Deals found per day: alerts fired on tracked products and deal-scout matches."""
    found = [("alerts", AlertEvent, "created_at"), ("scout", DealMatch, "matched_at")]
    counts: dict[tuple[str, str], int] = {}
    for name, model, field in found:
        rows = (
            model.objects.filter(**{f"{field}__gte": since, f"{field}__lte": until})
            .annotate(t=TruncDay(field, tzinfo=UTC))
            .values("t")
            .annotate(n=Count("id"))
        )
        for row in rows:
            counts[(name, row["t"].isoformat())] = row["n"]
    return [
        {"t": t.isoformat(), **{name: counts.get((name, t.isoformat()), 0) for name, _, _ in found}}
        for t in _buckets(since=since, until=until, step=timedelta(days=1))
    ]


def task_duration_p95() -> list[dict]:
    """p95 run time per Celery task since the processes started, from the Prometheus histograms."""
    from .instruments import _AllFoldersCollector

    buckets: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for family in _AllFoldersCollector().collect():
        if family.name != "pricetracker_celery_task_duration_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                buckets[sample.labels["task"]].append((float(sample.labels["le"]), sample.value))
    out = []
    for task, pairs in sorted(buckets.items()):
        pairs.sort()
        total = pairs[-1][1] if pairs else 0
        if not total:
            continue
        target = total * 0.95
        p95 = next((le for le, count in pairs if count >= target), math.inf)
        out.append({"task": task, "runs": int(total), "p95_seconds": None if math.isinf(p95) else p95})
    return out


def dashboard_figures(*, days: int, now: datetime | None = None) -> dict:
    """Everything the dashboard shows, as plain JSON-able data."""
    from .instruments import queue_depths

    now = now or timezone.now()
    since = now - timedelta(days=days)
    bucket, _ = bucket_for(days)
    return {
        "days": days,
        "since": since.isoformat(),
        "until": now.isoformat(),
        "bucket": bucket,
        "checks": checks_by_outcome(since=since, until=now, bucket=bucket),
        "stores": store_success_rates(since=since, until=now),
        "broken_stores": stores_broken(now=now),
        "queue_depth": queue_depths(),
        "check_duration_ms": check_durations(since=since, until=now),
        "task_duration_p95": task_duration_p95(),
        "notifications": notifications_by_day(since=since, until=now),
        "deals": deals_by_day(since=since, until=now),
    }


def _summed(rows: list[tuple[list[str], float]]) -> list[tuple[list[str], float]]:
    totals: dict[tuple[str, ...], float] = defaultdict(float)
    for labels, value in rows:
        totals[tuple(labels)] += value
    return [(list(labels), value) for labels, value in totals.items()]


def scrape_totals() -> Iterable[tuple[str, str, list[str], list[tuple[list[str], float]]]]:
    """Totals from the database for /metrics: (name, help, labels, [(label values, value)])."""
    calls, tokens = [], []
    rows = LLMCall.objects.values("purpose", "ok").annotate(
        n=Count("id"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens")
    )
    for row in rows:
        calls.append(([row["purpose"], "ok" if row["ok"] else "failed"], row["n"]))
        tokens.append(([row["purpose"], "prompt"], row["prompt"] or 0))
        tokens.append(([row["purpose"], "completion"], row["completion"] or 0))
    yield ("llm_calls", "LLM calls recorded, by purpose and outcome.", ["purpose", "outcome"], calls)
    yield ("llm_tokens", "LLM tokens recorded, by purpose and kind.", ["purpose", "kind"], _summed(tokens))
    rows = Notification.objects.values_list("status").annotate(n=Count("id"))
    yield ("notifications_by_status", "Notifications in the outbox by status.", ["status"],
           [([status], n) for status, n in rows])
    for name, model in (("alert_events", AlertEvent), ("deal_matches", DealMatch)):
        label = f"{model._meta.app_label}.{model.__name__}"
        yield (f"{name}_found", f"Deals found ({label}) in total.", [], [([], model.objects.count())])

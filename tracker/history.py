"""Price history stored as changes: reading it as the checks that made it.

A price point stands for every check that found the same price, currency and stock in a row:
the first at `checked_at`, the last at `last_confirmed_at`, `confirmations` in all. Statistics
that used to count one row per check (medians, "how many prices", the last five prices) count
those checks here, spread evenly over the point's span: with checks on a schedule that is the
same count, and for anything else it is the time-weighted figure a row count approximated.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Model, Q

_EPSILON = 1e-6


@dataclass(frozen=True)
class Span:
    """One price point as the checks it stands for."""

    first: datetime
    last: datetime
    count: int
    price: Decimal
    currency: str = ""
    in_stock: bool | None = None
    listing_id: int = 0
    point_id: int = 0

    @classmethod
    def of(cls, row: Sequence) -> Span:
        """From a `SPAN_FIELDS` values_list row."""
        point_id, listing_id, first, last, count, price, currency, in_stock = row
        return cls(first, last or first, max(1, count or 1), price, currency, in_stock, listing_id, point_id)

    def checks_between(self, since: datetime | None = None, until: datetime | None = None) -> int:
        """How many of the point's checks fell in [since, until] (both ends included)."""
        if self.count <= 1 or self.last <= self.first:
            inside = (since is None or self.first >= since) and (until is None or self.first <= until)
            return self.count if inside else 0
        step = (self.last - self.first).total_seconds() / (self.count - 1)
        low = 0 if since is None else max(0, math.ceil((since - self.first).total_seconds() / step - _EPSILON))
        high = self.count - 1
        if until is not None:
            high = min(high, math.floor((until - self.first).total_seconds() / step + _EPSILON))
        return max(0, high - low + 1)

    def first_check_since(self, since: datetime | None) -> datetime:
        """The time of the point's first check at or after `since`."""
        if since is None or self.first >= since or self.count <= 1:
            return self.first
        step = (self.last - self.first) / (self.count - 1)
        steps = max(0, math.ceil((since - self.first) / step - _EPSILON))
        return self.first + step * steps


SPAN_FIELDS = ("id", "listing_id", "checked_at", "last_confirmed_at", "confirmations", "price", "currency", "in_stock")


def points_overlapping(queryset, *, since: datetime | None = None, until: datetime | None = None):
    """The points of `queryset` (PricePoint rows) with a check in [since, until], oldest first."""
    if since is not None:
        queryset = queryset.filter(Q(checked_at__gte=since) | Q(last_confirmed_at__gte=since))
    if until is not None:
        queryset = queryset.filter(checked_at__lte=until)
    return queryset.order_by("checked_at", "pk")


def spans_overlapping(queryset, *, since: datetime | None = None, until: datetime | None = None) -> list[Span]:
    """The points of `queryset` (PricePoint rows) with a check in [since, until], oldest first."""
    return [Span.of(row) for row in points_overlapping(queryset, since=since, until=until).values_list(*SPAN_FIELDS)]


def prices_weighted(
    spans: Iterable[Span], *, since: datetime | None = None, until: datetime | None = None,
    leave_out: tuple[int, datetime] | None = None,
) -> list[tuple[Decimal, int]]:
    """(price, number of checks in [since, until]) per point; `leave_out` = (point id, time)
    takes out the one check being judged, as the old row-per-check queries excluded its row."""
    weighted = []
    for span in spans:
        count = span.checks_between(since, until)
        if leave_out is not None and span.point_id == leave_out[0] and span.first <= leave_out[1] <= span.last:
            count -= 1
        if count > 0:
            weighted.append((span.price, count))
    return weighted


def prices_expanded(weighted: Iterable[tuple[Decimal, int]]) -> list[Decimal]:
    """One price per check, as a row-per-check history listed them."""
    return [price for price, count in weighted for _ in range(count)]


def median_weighted(weighted: Iterable[tuple[Decimal, int]]) -> Decimal | None:
    """`statistics.median` of the prices repeated by their weights, without repeating them."""
    ordered = sorted((price, count) for price, count in weighted if count > 0)
    total = sum(count for _, count in ordered)
    if not total:
        return None
    middle = (total - 1) // 2, total // 2
    found: list[Decimal] = []
    seen = 0
    for price, count in ordered:
        for index in middle:
            if seen <= index < seen + count and len(found) < 2:
                found.append(price)
        seen += count
        if len(found) == 2:
            break
    low, high = found[0], found[-1]
    return low if low == high else (low + high) / 2


def runs_merge(*, point_model: type[Model], listing_id: int, before: datetime | None = None,
               protected: frozenset[int] | set[int] = frozenset()) -> int:
    """Merge a listing's runs of one price (same price, currency and stock, one after another)
    into their first point, which then spans the run's checks. Returns the points deleted.

    Works on the historical model in a migration as on the live one. Only points found before
    `before` are merged. A point another row refers to (an alert) is kept and starts a new
    run. Safe to run twice: a merged run is one point.
    """
    rows = list(
        point_model._default_manager.filter(listing_id=listing_id)
        .order_by("checked_at", "id")
        .values_list("id", "price", "currency", "in_stock", "checked_at", "last_confirmed_at", "confirmations")
    )
    head = None
    merged: dict[int, list] = {}
    doomed: list[int] = []
    for row in rows:
        point_id, *key = row[:4]
        mergeable = (
            head is not None and key == head[1] and point_id not in protected
            and (before is None or row[4] < before)
        )
        if not mergeable:
            head = (point_id, key)
            continue
        state = merged.setdefault(head[0], [None, 0])
        state[0] = max(filter(None, (state[0], row[4], row[5])))
        state[1] += row[6] or 1
        doomed.append(point_id)
    if not doomed:
        return 0
    heads = {row[0]: row for row in rows if row[0] in merged}
    with transaction.atomic():
        for point_id, (last, extra) in merged.items():
            head_row = heads[point_id]
            point_model._default_manager.filter(pk=point_id).update(
                last_confirmed_at=max(filter(None, (last, head_row[5]))),
                confirmations=(head_row[6] or 1) + extra,
            )
        for start in range(0, len(doomed), 2000):
            point_model._default_manager.filter(id__in=doomed[start : start + 2000]).delete()
        newest = point_model._default_manager.filter(listing_id=listing_id).order_by("-checked_at", "-id").first()
        listing_model = point_model._meta.get_field("listing").related_model
        listing_model._default_manager.filter(pk=listing_id).update(last_point=newest)
    return len(doomed)


def spans_as_points(spans: Iterable[Span], *, since: datetime | None = None) -> list[tuple[datetime, Decimal]]:
    """(time, price) as a row-per-check history charted them: each point at its first check
    in the period, and again at its last confirmation, so a step chart draws the flat segment
    up to the latest check that found the price."""
    points: list[tuple[datetime, Decimal]] = []
    for span in spans:
        first = span.first_check_since(since)
        points.append((first, span.price))
        if span.last > first:
            points.append((span.last, span.price))
    return points


def prices_latest(queryset, *, limit: int) -> list[Decimal]:
    """The prices the latest `limit` checks found, newest first (PricePoint rows)."""
    prices: list[Decimal] = []
    for price, count in queryset.order_by("-checked_at", "-pk").values_list("price", "confirmations")[:limit]:
        prices.extend([price] * min(max(1, count or 1), limit - len(prices)))
        if len(prices) >= limit:
            break
    return prices


def prices_since(queryset, *, since: datetime) -> list[Decimal]:
    """One price per check since `since` (PricePoint rows), as a row-per-check history had."""
    return prices_expanded(prices_weighted(spans_overlapping(queryset, since=since), since=since))


# --- the per-listing summary the dashboard reads ---------------------------------------------

TREND_DAYS = 30
TREND_MAX = 60  # changes kept for a sparkline (about 120 px wide)


def trend_append(trend: list | None, *, at: datetime, price: Decimal) -> list:
    """The listing's recent changes with this one added: the last TREND_DAYS days, the change
    before them (the price the window starts at), at most TREND_MAX entries."""
    entries = [entry for entry in (trend or []) if isinstance(entry, list) and len(entry) == 2]
    if not entries or Decimal(entries[-1][1]) != price:
        entries.append([at.isoformat(), str(price)])
    cutoff = (at - timedelta(days=TREND_DAYS)).isoformat()
    inside = [entry for entry in entries if entry[0] >= cutoff]
    before = [entry for entry in entries if entry[0] < cutoff][-1:]
    return (before + inside)[-TREND_MAX:]


def trend_points(trend: list | None, *, since: datetime, last_at: datetime | None) -> list[tuple[datetime, Decimal]]:
    """A stored trend as sparkline points from `since`: the change before the window starts
    it, and the line runs on to the latest check."""
    points: list[tuple[datetime, Decimal]] = []
    for at_text, price_text in trend or []:
        at, price = datetime.fromisoformat(at_text), Decimal(price_text)
        if at < since:
            points = [(since, price)]
        else:
            points.append((at, price))
    if points and last_at is not None and last_at > points[-1][0]:
        points.append((last_at, points[-1][1]))
    return points


def summary_after_check(*, listing, price: Decimal, changed: bool, now: datetime) -> dict:
    """The listing's summary fields after a check found `price` (a new point when `changed`).
    Plain values for the check path's UPDATE; nothing is read."""
    updates: dict = {"last_price_at": now}
    if not changed:
        return updates
    if listing.last_price is not None and listing.last_price != price:
        updates["previous_price"] = listing.last_price
        updates["previous_price_at"] = listing.last_price_at
    low, high = listing.lowest_price, listing.highest_price
    updates["lowest_price"] = price if low is None else min(low, price)
    updates["highest_price"] = price if high is None else max(high, price)
    updates["trend"] = trend_append(listing.trend, at=now, price=price)
    return updates


def listing_summary_rebuild(*, listing_model: type[Model], point_model: type[Model], listing_ids) -> None:
    """Recompute listings' summaries from their history (a migration, an import, a repair).
    Safe to run twice."""
    for listing_id in listing_ids:
        spans = spans_overlapping(point_model._default_manager.filter(listing_id=listing_id))
        if not spans:
            continue
        current = spans[-1]
        previous = next((span for span in reversed(spans) if span.price != current.price), None)
        trend: list = []
        for span in spans:
            trend = trend_append(trend, at=span.first, price=span.price)
        listing_model._default_manager.filter(pk=listing_id).update(
            last_price_at=current.last,
            previous_price=previous.price if previous else None,
            previous_price_at=previous.last if previous else None,
            lowest_price=min(span.price for span in spans),
            highest_price=max(span.price for span in spans),
            trend=trend_append(trend, at=current.last, price=current.price),
        )

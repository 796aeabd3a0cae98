"""Deal quality: where the current price sits in its own history. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import median

# Below this much history, saying "deal" or "not a deal" would be a guess.
MIN_PRICES = 5
MIN_SPAN = timedelta(days=7)
NEAR_LOW_SHARE = Decimal("0.05")
MEDIAN_WINDOW = timedelta(days=30)

ALL_TIME_LOW = "all_time_low"
NEAR_LOW = "near_low"
BELOW_MEDIAN = "below_median"
USUAL = "usual"
ABOVE_USUAL = "above_usual"
NOT_ENOUGH = "not_enough"


@dataclass(frozen=True)
class Quality:
    level: str
    label: str
    lowest: Decimal | None = None
    median_30d: Decimal | None = None

    @property
    def is_deal(self) -> bool:
        return self.level in (ALL_TIME_LOW, NEAR_LOW, BELOW_MEDIAN)


def _days(span: timedelta) -> int:
    return max(1, round(span.total_seconds() / 86400))


def deal_quality(*, price: Decimal, at: datetime, history: Sequence[tuple[datetime, Decimal]]) -> Quality:
    """Judge `price` (seen at `at`) against `history`: (checked_at, price) pairs, which may
    include the current one. Only history up to `at` counts."""
    points = [(when, value) for when, value in history if when <= at]
    if not points:
        return Quality(NOT_ENOUGH, "Not enough history yet")
    return deal_quality_from_summary(
        price=price,
        at=at,
        count=len(points),
        first_at=min(when for when, _ in points),
        lowest=min(value for _, value in points),
        recent=[value for when, value in points if when >= at - MEDIAN_WINDOW],
    )


def deal_quality_from_summary(
    *, price: Decimal, at: datetime, count: int, first_at: datetime | None, lowest: Decimal | None,
    recent: Sequence[Decimal],
) -> Quality:
    """The same judgement from a summary of the history (how many prices, since when, the
    lowest, and the prices of the last 30 days), which a database can compute in bulk."""
    if not count or first_at is None or lowest is None or count < MIN_PRICES or at - first_at < MIN_SPAN:
        return Quality(NOT_ENOUGH, "Not enough history yet")
    span_days = _days(at - first_at)
    typical = Decimal(median(recent)) if recent else None
    if price <= lowest:
        return Quality(ALL_TIME_LOW, f"Lowest in {span_days} days", lowest, typical)
    if price <= lowest * (1 + NEAR_LOW_SHARE):
        return Quality(NEAR_LOW, "Within 5 % of the lowest", lowest, typical)
    if typical is not None and price < typical:
        return Quality(BELOW_MEDIAN, "Below the 30-day median", lowest, typical)
    if typical is not None and price == typical:
        return Quality(USUAL, "The usual price", lowest, typical)
    return Quality(ABOVE_USUAL, "Above the usual price", lowest, typical)

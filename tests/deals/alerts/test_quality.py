from datetime import UTC, datetime, timedelta
from decimal import Decimal

from deals.alerts.quality import (
    ABOVE_USUAL,
    ALL_TIME_LOW,
    BELOW_MEDIAN,
    NEAR_LOW,
    NOT_ENOUGH,
    USUAL,
    deal_quality,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def history(*prices, days_apart: float = 3.0):
    """Prices oldest first, the last one at NOW."""
    n = len(prices)
    return [(NOW - timedelta(days=days_apart * (n - 1 - i)), Decimal(str(p))) for i, p in enumerate(prices)]


def judge(prices, **kwargs):
    points = history(*prices, **kwargs)
    return deal_quality(price=points[-1][1], at=NOW, history=points)


def test_a_price_at_its_lowest_is_the_all_time_low_with_the_span_in_days():
    q = judge([120, 110, 115, 118, 100], days_apart=22.5)
    assert q.level == ALL_TIME_LOW
    assert q.label == "Lowest in 90 days"
    assert q.is_deal


def test_within_five_percent_of_the_lowest():
    assert judge([100, 130, 125, 128, 104]).level == NEAR_LOW


def test_below_the_30_day_median():
    assert judge([80, 130, 125, 128, 120]).level == BELOW_MEDIAN


def test_above_usual():
    assert judge([80, 100, 100, 100, 130]).level == ABOVE_USUAL


def test_the_usual_price():
    assert judge([80, 100, 100, 100, 100]).level == USUAL


def test_not_enough_history_with_few_prices():
    assert judge([100, 90, 80]).level == NOT_ENOUGH


def test_not_enough_history_when_all_prices_are_from_the_last_days():
    q = judge([100, 101, 99, 100, 90, 95], days_apart=0.5)
    assert q.level == NOT_ENOUGH and q.label == "Not enough history yet"


def test_prices_after_the_moment_judged_do_not_count():
    points = history(120, 110, 115, 118, 100) + [(NOW + timedelta(days=1), Decimal("50"))]
    assert deal_quality(price=Decimal("100"), at=NOW, history=points).level == ALL_TIME_LOW

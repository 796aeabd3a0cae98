"""Edge-triggered alert rules over price sequences (pure, table-driven)."""

from decimal import Decimal

import pytest

from deals.alerts import rules


def run(kind: str, threshold, prices, *, stock=None, window: int = 1000) -> list[bool]:
    """Feed prices one by one as the service would; return which ones fired."""
    armed, fired, seen = True, [], []
    stock = stock or [True] * len(prices)
    for price, in_stock in zip(prices, stock, strict=True):
        price = Decimal(str(price))
        facts = rules.PriceFacts(
            price=price,
            previous_price=seen[-1] if seen else None,
            in_stock=in_stock,
            earlier_low=min(seen) if seen else None,
            window_prices=tuple(seen[-window:]),
        )
        decision = rules.rule_evaluate(
            kind=kind, threshold=Decimal(str(threshold)) if threshold is not None else None, armed=armed, facts=facts
        )
        armed = decision.armed
        fired.append(decision.fire)
        seen.append(price)
    return fired


@pytest.mark.parametrize(
    "kind, threshold, prices, expected",
    [
        # Already below target on the very first check: alerts at once.
        (rules.TARGET, 100, [90], [True]),
        # Stays below: alerts once.
        (rules.TARGET, 100, [90, 85, 99, 80], [True, False, False, False]),
        # Dips, recovers, dips again: two alerts.
        (rules.TARGET, 100, [120, 95, 110, 99], [False, True, False, True]),
        # Exactly at target counts.
        (rules.TARGET, 100, [101, 100], [False, True]),
        # Drop of 10 %: each drop alerts, a flat price re-arms.
        (rules.DROP_PERCENT, 10, [100, 89, 89, 80, 79], [False, True, False, True, False]),
        # Two drops in a row each big enough: the second still alerts only if re-armed in between.
        (rules.DROP_PERCENT, 10, [100, 85, 70], [False, True, False]),
        (rules.DROP_AMOUNT, 20, [200, 185, 160, 161, 140], [False, False, True, False, True]),
        (rules.RISE_PERCENT, 5, [100, 106, 106, 110], [False, True, False, False]),
        # New all-time low: strictly below every earlier price; a repeat of the low is not new.
        (rules.ALL_TIME_LOW, None, [100, 95, 95, 97, 94], [False, True, False, False, True]),
        # Below the typical (median) price: needs 3 earlier prices first.
        (rules.BELOW_TYPICAL, None, [100, 80, 100, 100, 90, 90, 100, 85], [False, False, False, False, True, False, False, True]),
    ],
)
def test_rule_fires_on_edges(kind, threshold, prices, expected):
    assert run(kind, threshold, prices) == expected


def test_back_in_stock_fires_when_stock_returns_and_again_after_selling_out():
    stock = [False, False, True, True, False, True]
    assert run(rules.BACK_IN_STOCK, None, [50] * 6, stock=stock) == [False, False, True, False, False, True]


def test_back_in_stock_alerts_on_the_first_check_if_it_is_in_stock():
    assert run(rules.BACK_IN_STOCK, None, [50], stock=[True]) == [True]


def test_an_out_of_stock_price_neither_alerts_nor_rearms_a_price_rule():
    # Below target but out of stock: no alert. Back in stock, still below: alert once.
    fired = run(rules.TARGET, 100, [90, 90, 90, 90], stock=[False, True, False, True])
    assert fired == [False, True, False, False]


def test_unknown_stock_does_not_block_a_price_rule():
    assert run(rules.TARGET, 100, [90], stock=[None]) == [True]


def test_drop_rules_cannot_fire_on_the_first_price():
    assert run(rules.DROP_PERCENT, 1, [10]) == [False]


def test_below_typical_margin_requires_the_price_to_be_that_far_below_the_median():
    assert run(rules.BELOW_TYPICAL, 10, [100, 100, 100, 95, 89]) == [False, False, False, False, True]


def test_an_undecidable_condition_keeps_the_state():
    assert rules.rule_decide(armed=False, condition=None) == (False, False)
    assert rules.rule_decide(armed=True, condition=None) == (False, True)

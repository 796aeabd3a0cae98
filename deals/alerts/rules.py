"""Alert rule evaluation. Pure: numbers in, decisions out (no ORM, no clock).

A rule is edge-triggered. It fires when its condition becomes true (also on the very first
price, since a new rule starts armed), stays quiet while the condition stays true, and
re-arms when the condition becomes false. A condition that cannot be judged yet (no previous
price, too little history, unknown stock) leaves the state as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

# "Below the typical price" needs at least this many earlier prices in its window.
TYPICAL_MIN_PRICES = 3

TARGET = "target"
DROP_PERCENT = "drop_percent"
DROP_AMOUNT = "drop_amount"
BELOW_TYPICAL = "below_typical"
ALL_TIME_LOW = "all_time_low"
BACK_IN_STOCK = "back_in_stock"
RISE_PERCENT = "rise_percent"
NEEDS_THRESHOLD = (TARGET, DROP_PERCENT, DROP_AMOUNT, RISE_PERCENT)


@dataclass(frozen=True)
class PriceFacts:
    """What the rule sees about one new trusted price."""

    price: Decimal
    previous_price: Decimal | None = None
    in_stock: bool | None = None
    earlier_low: Decimal | None = None  # lowest price before this one, all time
    window_prices: Sequence[Decimal] = field(default_factory=tuple)  # earlier prices in the rule's window


@dataclass(frozen=True)
class Decision:
    condition: bool | None
    fire: bool
    armed: bool
    reason: str = ""


def percent_change(old: Decimal, new: Decimal) -> Decimal | None:
    if not old:
        return None
    return (new - old) / old * Decimal(100)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def rule_condition(*, kind: str, threshold: Decimal | None, facts: PriceFacts) -> tuple[bool | None, str]:
    """Whether the rule's condition holds for this price, and the reason to tell a person."""
    price = facts.price
    if kind == BACK_IN_STOCK:
        if facts.in_stock is None:
            return None, ""
        return facts.in_stock, "back in stock"
    if facts.in_stock is False:
        return None, ""  # a price you cannot buy at is no deal, nor is it the end of one
    if kind == TARGET:
        if threshold is None:
            return None, ""
        return price <= threshold, f"at or below your target of {_money(threshold)}"
    if kind in (DROP_PERCENT, DROP_AMOUNT, RISE_PERCENT):
        previous = facts.previous_price
        if previous is None or threshold is None:
            return None, ""
        if kind == DROP_AMOUNT:
            return previous - price >= threshold, f"dropped by at least {_money(threshold)}"
        change = percent_change(previous, price)
        if change is None:
            return None, ""
        if kind == DROP_PERCENT:
            return -change >= threshold, f"dropped by at least {threshold.normalize():f} %"
        return change >= threshold, f"rose by at least {threshold.normalize():f} %"
    if kind == BELOW_TYPICAL:
        if len(facts.window_prices) < TYPICAL_MIN_PRICES:
            return None, ""
        typical = Decimal(median(facts.window_prices))
        margin = (threshold or Decimal(0)) / Decimal(100)
        return price < typical * (1 - margin), f"below the typical price of {_money(typical)}"
    if kind == ALL_TIME_LOW:
        if facts.earlier_low is None:
            return None, ""
        return price < facts.earlier_low, f"a new all-time low (was {_money(facts.earlier_low)})"
    raise ValueError(f"unknown rule kind {kind!r}")


def rule_decide(*, armed: bool, condition: bool | None) -> tuple[bool, bool]:
    """(fire, armed afterwards) for an edge-triggered rule."""
    if condition is None:
        return False, armed
    if condition:
        return armed, False
    return False, True


def rule_evaluate(*, kind: str, threshold: Decimal | None, armed: bool, facts: PriceFacts) -> Decision:
    condition, reason = rule_condition(kind=kind, threshold=threshold, facts=facts)
    fire, armed_after = rule_decide(armed=armed, condition=condition)
    return Decision(condition=condition, fire=fire, armed=armed_after, reason=reason)

"""Scoring a deal against what the thing usually costs, and against its own previous price.
Pure: numbers in, verdict out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

# Below this share of the comparable a listing is more likely a wrong item, an accessory or a
# scam than a real bargain: flagged as suspicious instead of celebrated.
SUSPICIOUS_BELOW = Decimal("0.30")
# A drop from the item's own previous price, with no comparables, is one piece of evidence.
OWN_DROP_CONFIDENCE = 0.3


@dataclass(frozen=True)
class Comparable:
    price: Decimal | None
    count: int  # distinct items (and the linked product's history, by weight) behind the price
    spread: float = 0.0  # their scaled MAD over their median: how much they disagree
    note: str = ""  # how they were gathered, for the reason (currencies converted or left out)

    @classmethod
    def of(cls, prices: Iterable[Decimal]) -> Comparable:
        values = sorted(Decimal(p) for p in prices if p is not None and Decimal(p) > 0)
        if not values:
            return cls(None, 0)
        return cls(Decimal(median(values)).quantize(Decimal("0.01")), len(values))


@dataclass(frozen=True)
class DealScore:
    score: int  # 0..100: how far below the comparable (or its own previous price), in percent
    discount: Decimal | None  # 1 - price / comparable; negative when above
    confidence: float  # 0..1, low with few distinct comparables or when they disagree
    suspicious: bool
    reason: str


def confidence_for(count: int, spread: float = 0.0) -> float:
    """Few data points say little: 1 point → 0.2, 3 → 0.5, 10 or more → 0.9; comparables that
    disagree (a wide spread) say less: a 25 % spread halves it."""
    if count <= 0:
        return 0.0
    if count >= 10:
        base = 0.9
    else:
        base = min(0.9, 0.2 + 0.1 * (count - 1) + (0.05 if count >= 3 else 0))
    return round(base * max(0.3, 1.0 - 2.0 * max(0.0, spread)), 2)


def _percent(fraction: Decimal) -> int:
    return int((fraction * 100).to_integral_value())


def own_drop(price: Decimal, previous_price: Decimal | None) -> Decimal | None:
    """How far the item fell from its own previous price (a fraction), None when it did not."""
    if previous_price is None or previous_price <= 0 or price >= previous_price:
        return None
    return (Decimal(1) - Decimal(price) / previous_price).quantize(Decimal("0.0001"))


def deal_score(*, price: Decimal, comparable: Comparable, previous_price: Decimal | None = None) -> DealScore:
    price = Decimal(price)
    drop = own_drop(price, previous_price)
    drop_text = f"down {_percent(drop)} % from its own previous price {previous_price}" if drop is not None else ""
    note = f"; {comparable.note}" if comparable.note else ""
    if comparable.price is None or comparable.count == 0:
        if drop is not None:
            score = max(0, min(100, _percent(drop)))
            return DealScore(score, None, OWN_DROP_CONFIDENCE, False, f"{drop_text}; no comparable prices yet{note}")
        return DealScore(0, None, 0.0, False, f"no comparable prices yet{note}")
    discount = (Decimal(1) - price / comparable.price).quantize(Decimal("0.0001"))
    confidence = confidence_for(comparable.count, comparable.spread)
    basis = f"{comparable.count} comparable price{'s' if comparable.count != 1 else ''}, median {comparable.price}"
    if comparable.spread:
        basis += f", spread {round(comparable.spread * 100)} %"
    basis += note
    if price < comparable.price * SUSPICIOUS_BELOW:
        return DealScore(
            0,
            discount,
            confidence,
            True,
            f"suspicious: {price} is under {int(SUSPICIOUS_BELOW * 100)} % of the usual {comparable.price} "
            f"(wrong item, accessory or scam?); {basis}",
        )
    score = max(0, min(100, _percent(discount)))
    if discount > 0:
        reason = f"{score} % below the usual price; {basis}"
    elif discount == 0:
        reason = f"at the usual price; {basis}"
    else:
        reason = f"{_percent(-discount)} % above the usual price; {basis}"
    if drop is not None:
        # Its own drop is evidence of its own: it can carry the score when the comparables don't.
        score = max(score, min(100, _percent(drop)))
        reason = f"{reason}; {drop_text}"
    return DealScore(score, discount, confidence, False, reason)

"""Scoring a deal against what the thing usually costs. Pure: numbers in, verdict out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

# Below this share of the comparable a listing is more likely a wrong item, an accessory or a
# scam than a real bargain: flagged as suspicious instead of celebrated.
SUSPICIOUS_BELOW = Decimal("0.30")


@dataclass(frozen=True)
class Comparable:
    price: Decimal | None
    count: int

    @classmethod
    def of(cls, prices: Iterable[Decimal]) -> Comparable:
        values = sorted(Decimal(p) for p in prices if p is not None and Decimal(p) > 0)
        if not values:
            return cls(None, 0)
        return cls(Decimal(median(values)).quantize(Decimal("0.01")), len(values))


    @classmethod
    def of_sorted(cls, values: Sequence[Decimal], *, skip: int | None = None) -> Comparable:
        """The median of already sorted prices, leaving out the one at `skip`, in O(1)."""
        count = len(values) - (1 if skip is not None else 0)
        if count <= 0:
            return cls(None, 0)

        def at(j: int) -> Decimal:
            return values[j if skip is None or j < skip else j + 1]

        middle = at(count // 2) if count % 2 else (at(count // 2 - 1) + at(count // 2)) / 2
        return cls(Decimal(middle).quantize(Decimal("0.01")), count)


@dataclass(frozen=True)
class DealScore:
    score: int  # 0..100: how far below the comparable, in percent (0 when not below)
    discount: Decimal | None  # 1 - price / comparable; negative when above
    confidence: float  # 0..1, low with few comparables
    suspicious: bool
    reason: str


def confidence_for(count: int) -> float:
    """Few data points say little: 1 point → 0.2, 3 → 0.5, 10 or more → 0.9."""
    if count <= 0:
        return 0.0
    if count >= 10:
        return 0.9
    return round(min(0.9, 0.2 + 0.1 * (count - 1) + (0.05 if count >= 3 else 0)), 2)


def deal_score(*, price: Decimal, comparable: Comparable) -> DealScore:
    if comparable.price is None or comparable.count == 0:
        return DealScore(0, None, 0.0, False, "no comparable prices yet")
    discount = (Decimal(1) - Decimal(price) / comparable.price).quantize(Decimal("0.0001"))
    confidence = confidence_for(comparable.count)
    basis = f"{comparable.count} comparable price{'s' if comparable.count != 1 else ''}, median {comparable.price}"
    if Decimal(price) < comparable.price * SUSPICIOUS_BELOW:
        return DealScore(
            0,
            discount,
            confidence,
            True,
            f"suspicious: {price} is under {int(SUSPICIOUS_BELOW * 100)} % of the usual {comparable.price} "
            f"(wrong item, accessory or scam?); {basis}",
        )
    score = max(0, min(100, int((discount * 100).to_integral_value())))
    if discount > 0:
        reason = f"{score} % below the usual price; {basis}"
    elif discount == 0:
        reason = f"at the usual price; {basis}"
    else:
        reason = f"{int((-discount * 100).to_integral_value())} % above the usual price; {basis}"
    return DealScore(score, discount, confidence, False, reason)

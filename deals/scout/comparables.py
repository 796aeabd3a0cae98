"""Deal scout, comparables: the prices a thing usually has, and each match's score against them.

Nightly `comps_refresh` rescores every match; `watch_pool` serves a scan's new matches.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from ..models import DealListing, DealMatch, Watch
from .scoring import Comparable, DealScore, deal_score

COMPARABLE_PRODUCT_DAYS = 90
COMPARABLE_LISTING_DAYS = 30


@dataclass
class _Pool:
    """A watch's comparable prices, sorted, and which listings' prices are among them."""

    prices: list[Decimal]
    listing_prices: dict[int, Decimal]
    prices_of_product: list[Decimal]

    def comparable_for(self, listing: DealListing) -> Comparable:
        own = self.listing_prices.get(listing.pk)
        skip = bisect.bisect_left(self.prices, own) if own is not None else None
        return Comparable.of_sorted(self.prices, skip=skip)


def watch_pool(*, watch: Watch, now: datetime) -> _Pool:
    """Prices this thing usually has: the linked product's history and recent similar listings."""
    prices: list[Decimal] = []
    if watch.product_id:
        from tracker.models import PricePoint

        prices.extend(
            PricePoint.objects.filter(
                listing__product_id=watch.product_id,
                checked_at__gte=now - timedelta(days=COMPARABLE_PRODUCT_DAYS),
            ).values_list("price", flat=True)
        )
    similar = dict(
        DealMatch.objects.filter(
            watch=watch,
            suspicious=False,
            listing__price__isnull=False,
            listing__last_seen_at__gte=now - timedelta(days=COMPARABLE_LISTING_DAYS),
        ).values_list("listing_id", "listing__price")
    )
    return _Pool(sorted([*prices, *similar.values()]), similar, prices)


def match_values(comparable: Comparable, verdict: DealScore, now: datetime) -> dict:
    return {
        "comparable_price": comparable.price,
        "comparable_count": comparable.count,
        "score": verdict.score,
        "confidence": verdict.confidence,
        "suspicious": verdict.suspicious,
        "reason": verdict.reason[:500],
        "scored_at": now,
    }


def comps_refresh(*, now: datetime | None = None) -> int:
    """Recompute every active match's comparable and score. Returns how many were updated.

    Per watch, the comparable prices are read once and kept sorted; each match's own price is
    taken out by bisection, so 100,000 listings cost one query per watch, not one per listing.
    """
    now = now or timezone.now()
    updated = 0
    for watch in Watch.objects.filter(enabled=True).iterator():
        base: list[Decimal] = []
        if watch.product_id:
            from tracker.models import PricePoint

            base = list(
                PricePoint.objects.filter(
                    listing__product_id=watch.product_id,
                    checked_at__gte=now - timedelta(days=COMPARABLE_PRODUCT_DAYS),
                ).values_list("price", flat=True)
            )
        rows = list(
            DealMatch.objects.filter(watch=watch, listing__price__isnull=False).values_list(
                "id", "listing__price", "suspicious", "listing__last_seen_at"
            )
        )
        recent_cutoff = now - timedelta(days=COMPARABLE_LISTING_DAYS)
        pool = sorted(
            [Decimal(p) for p in base]
            + [price for _, price, suspicious, seen in rows if not suspicious and seen >= recent_cutoff]
        )
        changed: list[tuple] = []
        for match_id, price, suspicious, seen in rows:
            own_in_pool = not suspicious and seen >= recent_cutoff
            skip = bisect.bisect_left(pool, price) if own_in_pool else None
            comparable = Comparable.of_sorted(pool, skip=skip)
            verdict = deal_score(price=price, comparable=comparable)
            values = match_values(comparable, verdict, now)
            changed.append((*(values[f] for f in SCORE_FIELDS), match_id))
        scores_write(changed)
        updated += len(changed)
    return updated


SCORE_FIELDS = ("comparable_price", "comparable_count", "score", "confidence", "suspicious", "reason", "scored_at")


def scores_write(rows: list[tuple]) -> None:
    """One prepared UPDATE run for many rows: far cheaper than bulk_update's CASE chains."""
    if not rows:
        return
    table = connection.ops.quote_name(DealMatch._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(f)} = %s" for f in SCORE_FIELDS)
    fields = {f.name: f for f in DealMatch._meta.concrete_fields}
    prepared = [
        tuple(fields[name].get_db_prep_save(value, connection) for name, value in zip(SCORE_FIELDS, row[:-1], strict=False))
        + (row[-1],)
        for row in rows
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(prepared), 5000):
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", prepared[start : start + 5000])

"""What the deal pages read: a person's deals with their filters, and the sources they see."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from ..models import DealListing, DealMatch, DealSource


def deals_for(
    *,
    owner,
    watch_id: int | None = None,
    source_id: int | None = None,
    min_score: int | None = None,
    max_price: Decimal | None = None,
    condition: str | None = None,
    max_age_days: int | None = None,
    include_gone: bool = False,
    sort: str = "score",
) -> QuerySet[DealMatch]:
    """The person's deal matches, filtered, best first (or newest first)."""
    matches = DealMatch.objects.filter(watch__owner=owner).select_related("listing", "listing__source", "watch")
    if not include_gone:
        matches = matches.filter(listing__status=DealListing.Status.ACTIVE)
    if watch_id:
        matches = matches.filter(watch_id=watch_id)
    if source_id:
        matches = matches.filter(listing__source_id=source_id)
    if min_score is not None:
        matches = matches.filter(score__gte=min_score)
    if max_price is not None:
        matches = matches.filter(listing__price__lte=max_price)
    if condition:
        matches = matches.filter(listing__condition=condition)
    if max_age_days:
        matches = matches.filter(listing__first_seen_at__gte=timezone.now() - timedelta(days=max_age_days))
    order = ["-listing__first_seen_at"] if sort == "newest" else ["suspicious", "-score", "-confidence"]
    return matches.order_by(*order)


def sources_visible_to(owner) -> QuerySet[DealSource]:
    """Shared sources and the person's own."""
    return DealSource.objects.filter(Q(owner=owner) | Q(owner__isnull=True))


def deals_explain(deals) -> list[DealMatch]:
    """The deals with the comparables their score used (from their watch's last scoring),
    leaving out the deal's own item, and those left out with why: outliers, and the items in a
    currency there is no exchange rate for, which were not compared with the deal at all."""
    shown = list(deals)
    for deal in shown:
        snapshot = deal.watch.comparables or {}
        currency = deal.listing.currency or ""
        pool = snapshot.get("pool_of", {}).get(currency, currency)

        def others(entries: list[dict], deal=deal, pool=pool) -> list[dict]:
            # A snapshot from before pools had currencies: its entries are the deal's own.
            return [{"currency": pool, **entry} for entry in entries if deal.listing_id not in entry.get("listings", [])]

        items = others(snapshot.get("items", []))
        deal.comparables_used = [c for c in items if c["currency"] == pool]
        deal.comparables_left_out = [c for c in others(snapshot.get("left_out", [])) if c["currency"] == pool] + [
            {**c, "why": f"in {c['currency'] or 'no named currency'}: no exchange rate to compare it with "
             f"{pool or 'prices without a named currency'}"}
            for c in items
            if c["currency"] != pool
        ]
        deal.comparables_distinct = snapshot.get("distinct", 0)
        deal.history_points = snapshot.get("history_points", 0)
    return shown

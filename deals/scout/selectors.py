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

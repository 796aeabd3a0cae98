"""Deal scout, reconciling: items that vanished from their source are marked gone/sold."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from ..models import DealListing, DealSource


def listings_reconcile(*, now: datetime | None = None) -> int:
    """Mark items missing from their source's latest successful scan as gone, with how long they lasted.

    Safe to run twice: only active items are changed.
    """
    now = now or timezone.now()
    gone = 0
    for source_id, last_success in DealSource.objects.filter(last_success_at__isnull=False).values_list(
        "id", "last_success_at"
    ):
        stale = DealListing.objects.filter(
            source_id=source_id, status=DealListing.Status.ACTIVE, last_seen_at__lt=last_success
        )
        for listing_id, first_seen, last_seen in stale.values_list("id", "first_seen_at", "last_seen_at"):
            gone += DealListing.objects.filter(id=listing_id, status=DealListing.Status.ACTIVE).update(
                status=DealListing.Status.GONE, gone_at=now, lasted=last_seen - first_seen
            )
    return gone

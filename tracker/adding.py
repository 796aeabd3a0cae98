"""One rule for adding a URL from the API and from an import: the same checks as the add form
(a trackable address, not tracked yet, a known priority), then `services.listing_add`.

When the add flow learns to run the first check before keeping a product, that rule is
called here, in `url_track`, and both the API and the import follow it."""

from __future__ import annotations

from dataclasses import dataclass

from . import selectors, services
from .fetching import FetchError, validate_url
from .models import Listing, Priority


@dataclass(frozen=True)
class TrackResult:
    outcome: str  # "added", "duplicate" or "refused"
    message: str
    listing: Listing | None = None


def url_track(*, owner, url: str, name: str = "", priority: str = Priority.NORMAL) -> TrackResult:
    """Start tracking `url` as a new product, or say why not. Safe to run twice: the second
    run answers "duplicate" with the listing the first one made."""
    try:
        clean = validate_url(url)
    except FetchError as exc:
        return TrackResult("refused", f"this address cannot be tracked: {exc}")
    priority = (priority or Priority.NORMAL).strip().lower()
    if priority not in Priority.values:
        return TrackResult("refused", f"unknown priority {priority!r} (one of {', '.join(Priority.values)})")
    existing = selectors.listing_find_by_url(owner=owner, url=clean)
    if existing is not None:
        return TrackResult("duplicate", f"already tracked in “{existing.product.name}”", existing)
    try:
        listing = services.listing_add(owner=owner, url=clean, name=(name or "").strip()[:300], priority=priority)
    except services.TrackingError as exc:
        return TrackResult("refused", str(exc))
    return TrackResult("added", "added", listing)

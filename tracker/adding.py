"""Adding a URL from the API and from an import, by the add form's rule: the same checks of the
address and the priority, then `services.listing_add_checked` (the first check runs before the
product is kept; a page it finds no price on is removed again unless kept), with the result in
words an API client or an import's row can show."""

from __future__ import annotations

from dataclasses import dataclass

from . import refusals, selectors, services, tasks
from .models import Listing, Priority
from .money import money_format


@dataclass(frozen=True)
class TrackResult:
    outcome: str  # "added", "duplicate" or "refused"
    message: str  # plain words: the price found, the product it duplicates, or why it was refused
    listing: Listing | None = None
    detail: str = ""  # a refusal's (or a kept page's) technical detail, for whoever digs
    keepable: bool = False  # refused by its first check: `keep` would track it anyway


def url_track(
    *,
    owner,
    url: str,
    name: str = "",
    priority: str = Priority.NORMAL,
    keep: bool = False,
    check_later: bool = False,
    wait_max: float = services.ADD_CHECK_WAIT_MAX,
) -> TrackResult:
    """Start tracking `url` as a new product, or say why not. The first check runs here and a
    page it finds no price on is refused, unless `keep`. `check_later` keeps the page without
    waiting on its shop (the check goes to the workers): for a caller that restores pages a
    person already tracked, for whom the check decides nothing.

    Safe to run twice: the second run answers "duplicate" with the listing the first one made.
    """
    priority = (priority or Priority.NORMAL).strip().lower()
    if priority not in Priority.values:
        return TrackResult("refused", f"unknown priority {priority!r} (one of {', '.join(Priority.values)})")
    try:
        clean = services.url_check(url=url)
    except services.TrackingError as exc:
        return TrackResult("refused", f"this address cannot be tracked: {exc}")
    existing = selectors.listing_find_by_url(owner=owner, url=clean)
    if existing is not None:
        return _duplicate(existing)
    name = (name or "").strip()[:300]
    if check_later:
        listing = services.listing_add(owner=owner, url=clean, name=name, priority=priority)
        tasks.check_now(listing=listing)
        return TrackResult("added", "added; its first check is queued", listing)
    added = services.listing_add_checked(
        owner=owner, url=clean, name=name, priority=priority, keep=keep, wait_max=wait_max
    )
    if added.already_tracked:  # added by another request between the look-up and the add
        return _duplicate(added.listing)
    if not added.kept:
        refusal = refusals.refusal_for(outcome=added.check)
        return TrackResult("refused", refusal.reason, detail=refusal.detail, keepable=True)
    listing = added.listing
    tasks.first_check_follow_up(listing=listing, outcome=added.check)
    if added.priced:
        point = added.check.price_point
        price = money_format(amount=point.price, currency=point.currency)
        return TrackResult("added", f"added at {price}", listing)
    refusal = refusals.refusal_for(outcome=added.check)
    return TrackResult("added", f"kept without a price for now: {refusal.reason}", listing, detail=refusal.detail)


def _duplicate(listing: Listing) -> TrackResult:
    return TrackResult("duplicate", f"already tracked in “{listing.product.name}”", listing)

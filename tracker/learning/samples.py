"""The pages of a store kept to learn and validate its pattern: a bounded number of distinct
recent pages, compressed, written when what extraction reads from a page changes (checked on
every check, hence the written-out SQL of rows.py), and the prices a listing was recorded at,
to judge a pattern's price against."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from .. import history, rows
from ..models import Listing, ListingPage, Store, html_unpack
from .llm import SamplePage

# A page that reads the same is still rewritten this often, so a store's samples follow a
# redesign that moved no price (the old layout would fail a pattern learned on the new one).
PAGE_REFRESH = timedelta(days=1)


def page_facts_hash(*, result) -> str:
    """What extraction read from a page (price, currency, stock, title, image, which layer,
    where and from which text) and the page's layout (its class names), hashed: pages that
    differ only in tokens, timestamps or recommendations hash the same, a redesign does not."""
    evidence = result.evidence or {}
    facts = [
        str(result.price), result.currency, str(result.availability), result.title, result.image, result.method,
        evidence.get("source"), evidence.get("text"), result.selector, result.flagged, result.reason, result.layout,
    ]
    return hashlib.sha256(json.dumps(facts, default=str).encode("utf-8", "surrogatepass")).hexdigest()


def page_save_needed(*, kept: rows.PageKept | None, facts_hash: str, now) -> bool:
    """Whether `listing_page_save` would write the page, from what the check's claim read of
    the listing's kept page (None: not read, so maybe)."""
    if kept is None:
        return True
    has_page = kept.fetched_at is not None
    if facts_hash and has_page and kept.facts_hash == facts_hash and kept.fetched_at > now - PAGE_REFRESH:
        return False
    return has_page or (kept.store_pages_since or 0) < settings.STORE_PAGES_KEPT


def listing_page_save(
    *, listing: Listing, url: str, html: str, facts_hash: str = "", now=None, kept: rows.PageKept | None = None
) -> bool:
    """Keep the page as one of its store's sample pages, capped and compressed, when what
    extraction reads from it is new. Returns whether it was written.

    A store keeps at most STORE_PAGES_KEPT pages: a listing without a stored page joins
    while there is room or in place of a page older than PAGE_REFRESH. Most checks find
    their page as it was and write nothing. `kept`: what a check read of the listing's page
    when it was claimed (rows.check_claim), so it asks nothing more; without it, up to three
    small SELECTs. Safe to run twice: one row per listing, and a second run finds the page
    written.
    """
    now = now or timezone.now()
    fresh = now - PAGE_REFRESH
    limit = settings.STORE_PAGES_KEPT
    if kept is not None:
        if not page_save_needed(kept=kept, facts_hash=facts_hash, now=now):
            return False
        has_page = kept.fetched_at is not None
    else:
        if facts_hash and rows.row_exists(
            ListingPage, where={"listing": listing.pk, "facts_hash": facts_hash}, after={"fetched_at": fresh}
        ):
            return False
        has_page = rows.row_exists(ListingPage, where={"listing": listing.pk})
        if not has_page and rows.store_pages_count(store_id=listing.store_id, since=fresh) >= limit:
            return False
    cap = settings.LISTING_PAGE_MAX_CHARS
    rows.row_upsert(
        ListingPage(
            listing=listing,
            url=url[:2000],
            html=(html or "")[:cap],
            facts_hash=facts_hash,
            truncated=len(html or "") > cap,
            fetched_at=now,
        ),
        unique="listing",
        update=("url", "html_z", "facts_hash", "truncated", "fetched_at"),
    )
    if not has_page:
        stale = ListingPage.objects.filter(listing__store_id=listing.store_id).order_by("-fetched_at", "-pk")[limit:]
        ListingPage.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return True


def store_sample_pages(*, store: Store, limit: int | None = None, owner=None) -> list[SamplePage]:
    """The store's sample pages, one per listing, most recently written first; with `owner`,
    only his own listings' pages (what he may see and what his own pattern reads)."""
    limit = limit or settings.PATTERN_SAMPLE_PAGES
    pages = ListingPage.objects.filter(listing__store=store)
    if owner is not None:
        pages = pages.filter(listing__product__owner=owner)
    rows = (
        pages.order_by("-fetched_at")
        .values_list("url", "html_z")[:limit]
    )
    return [SamplePage(url=url, html=html_unpack(packed)) for url, packed in rows]


def listing_reference_price(*, listing: Listing) -> Decimal | None:
    """The median of the listing's recent recorded prices (robust against one odd value)."""
    prices = sorted(history.prices_latest(listing.prices.all(), limit=5))
    if not prices:
        return listing.last_price
    return prices[len(prices) // 2]

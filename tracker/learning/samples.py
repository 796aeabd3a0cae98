"""The pages of a store kept to learn and validate its pattern: the latest fetched HTML of each
listing (written on every check, hence the written-out SQL of rows.py), and the prices a
listing was recorded at, to judge a pattern's price against."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from .. import rows
from ..models import Listing, ListingPage, Store
from .llm import SamplePage


def listing_page_save(*, listing: Listing, url: str, html: str) -> None:
    """Keep the latest fetched HTML of a listing (capped). Safe to run twice: one row per listing."""
    cap = settings.LISTING_PAGE_MAX_CHARS
    text = (html or "")[:cap]
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    now = timezone.now()
    # Most checks find the page as it was: one small UPDATE instead of rewriting the HTML.
    if rows.row_update(
        ListingPage,
        where={"listing": listing.pk, "html_hash": digest},
        values={"url": url[:2000], "fetched_at": now},
    ):
        return
    # A new or changed page: one upsert.
    rows.row_upsert(
        ListingPage(
            listing=listing,
            url=url[:2000],
            html=text,
            html_hash=digest,
            truncated=len(html or "") > cap,
            fetched_at=now,
        ),
        unique="listing",
        update=("url", "html", "html_hash", "truncated", "fetched_at"),
    )


def store_sample_pages(*, store: Store, limit: int | None = None, owner=None) -> list[SamplePage]:
    """The store's most recently fetched pages, one per listing, newest first; with `owner`,
    only his own listings' pages (what he may see and what his own pattern reads)."""
    limit = limit or settings.PATTERN_SAMPLE_PAGES
    pages = ListingPage.objects.filter(listing__store=store)
    if owner is not None:
        pages = pages.filter(listing__product__owner=owner)
    rows = (
        pages.order_by("-fetched_at")
        .values_list("url", "html")[:limit]
    )
    return [SamplePage(url=url, html=html) for url, html in rows]


def listing_reference_price(*, listing: Listing) -> Decimal | None:
    """The median of the listing's recent recorded prices (robust against one odd value)."""
    prices = sorted(listing.prices.order_by("-checked_at").values_list("price", flat=True)[:5])
    if not prices:
        return listing.last_price
    return prices[len(prices) // 2]

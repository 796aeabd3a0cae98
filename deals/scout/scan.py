"""Deal scout, scanning: claim due sources, fetch and parse them, upsert their items, then match."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tracker.fetching import FetchError

from ..models import DealListing, DealMatch, DealSource
from . import feeds
from .match import listings_match

log = logging.getLogger(__name__)

@dataclass
class ScanReport:
    source_id: int
    ok: bool = True
    error: str = ""
    pages: int = 0
    items: int = 0
    new: int = 0
    price_changes: int = 0
    matches: list[DealMatch] = field(default_factory=list)
    seconds: float = 0.0
    partial: str = ""  # why the scan stopped before the last page (what was read is kept)


# --- Claiming due sources -------------------------------------------------------------------


def sources_claim_due(*, now: datetime | None = None) -> list[int]:
    """Sources whose scan is due, each claimed by a conditional UPDATE of its due time.

    Safe to run twice at once: a source claimed by one run is not due for the other.
    """
    now = now or timezone.now()
    claimed = []
    due = DealSource.objects.filter(enabled=True, next_scan_at__lte=now).values_list(
        "id", "next_scan_at", "poll_interval_minutes"
    )
    for source_id, due_at, minutes in due:
        won = DealSource.objects.filter(id=source_id, next_scan_at=due_at).update(
            next_scan_at=now + timedelta(minutes=minutes)
        )
        if won:
            claimed.append(source_id)
    return claimed


# --- Scanning ---------------------------------------------------------------------------------


FEED_TYPES = (
    "application/rss+xml", "application/atom+xml", "application/xml", "text/xml",
    "application/rdf+xml", "text/html", "application/xhtml+xml",
)


def _fetch(source: DealSource, url: str) -> str:
    """Fetch one page of a source through the fetch gate, with its limits."""
    from tracker.fetching import safe_get

    limit = settings.SCOUT_FEED_MAX_BYTES
    if source.kind == DealSource.Kind.JSON:
        return safe_get(url, accept="json", max_bytes=limit).text
    if source.kind == DealSource.Kind.HTML:
        return safe_get(url, accept="html", max_bytes=limit).text
    result = safe_get(url, accept="any", max_bytes=limit)
    if result.content_type and result.content_type not in FEED_TYPES:
        raise FetchError(f"not a feed (content type {result.content_type})", kind="not_html")
    return result.text


def _parse(source: DealSource, content: str, url: str) -> tuple[list[feeds.FeedItem], str | None]:
    currency = source.default_currency or None
    if source.kind == DealSource.Kind.FEED:
        return feeds.parse_rss(content, base_url=url, default_currency=currency), None
    if source.kind == DealSource.Kind.JSON:
        return feeds.parse_json(content, base_url=url, default_currency=currency), None
    return feeds.parse_html_list(content, base_url=url, pattern=source.item_pattern, default_currency=currency)


def source_pages_limit(source: DealSource) -> int:
    """The source's own max_pages, never beyond SCOUT_MAX_PAGES."""
    return max(1, min(source.max_pages or 1, settings.SCOUT_MAX_PAGES))


def source_read(*, source: DealSource) -> tuple[list[feeds.FeedItem], int, str]:
    """Fetch and parse every page of a source (following `next` up to `source_pages_limit`).

    Returns (items, pages read, why reading stopped early or ""). The first page failing
    raises; a later page failing (a refused `next` link, a broken page) keeps what the
    earlier pages gave.
    """
    items: dict[str, feeds.FeedItem] = {}
    url: str | None = source.url
    seen_urls: set[str] = set()
    pages = 0
    partial = ""
    limit = source_pages_limit(source)
    while url and url not in seen_urls and pages < limit:
        seen_urls.add(url)
        try:
            content = _fetch(source, url)
            page_items, url = _parse(source, content, url)
        except (FetchError, feeds.FeedError) as exc:
            if pages == 0:
                raise
            partial = f"page {pages + 1} not read ({url}): {exc}"[:500]
            break
        pages += 1
        for item in page_items:
            items.setdefault(item.external_id, item)  # a feed that repeats items: first wins
    return list(items.values()), pages, partial


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _item_values(item: feeds.FeedItem) -> dict:
    return {
        "url": item.url,
        "title": item.title,
        "currency": item.currency or "",
        "image_url": item.image_url if item.image_url.startswith("http") else "",
        "condition": item.condition,
        "seller": item.seller,
        "in_stock": item.in_stock,
    }


def items_upsert(
    *, source: DealSource, items: list[feeds.FeedItem], now: datetime
) -> tuple[list[DealListing], int, int]:
    """Record a scan's items: new ones created, seen ones refreshed, price changes kept.

    Returns (listings that are new or changed price, new count, price change count). Safe
    with a concurrent scan of the same source: the unique (source, external id) constraint
    refuses the second insert, which is ignored.
    """
    existing: dict[str, DealListing] = {}
    for chunk in _chunks([i.external_id for i in items]):
        existing.update(
            (listing.external_id, listing)
            for listing in DealListing.objects.filter(source=source, external_id__in=chunk)
        )
    fresh = [i for i in items if i.external_id not in existing]
    DealListing.objects.bulk_create(
        [
            DealListing(source=source, external_id=i.external_id, price=i.price, first_seen_at=now,
                        last_seen_at=now, **_item_values(i))
            for i in fresh
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    touched: list[DealListing] = []
    for chunk in _chunks([i.external_id for i in fresh]):
        touched.extend(DealListing.objects.filter(source=source, external_id__in=chunk))
    changes = 0
    seen_ids: list[int] = []
    for item in items:
        listing = existing.get(item.external_id)
        if listing is None:
            continue
        seen_ids.append(listing.pk)
        values = _item_values(item)
        updates = {k: v for k, v in values.items() if getattr(listing, k) != v}
        if item.price is not None and listing.price != item.price:
            updates.update(previous_price=listing.price, price=item.price, price_changed_at=now)
            changes += 1
            touched.append(listing)
        if updates:
            DealListing.objects.filter(id=listing.pk).update(**updates)
            for key, value in updates.items():
                setattr(listing, key, value)
    for chunk in _chunks(seen_ids):
        DealListing.objects.filter(id__in=chunk).update(
            last_seen_at=now, status=DealListing.Status.ACTIVE, gone_at=None, lasted=None
        )
    return touched, len(fresh), changes


def source_scan(*, source: DealSource, now: datetime | None = None) -> ScanReport:
    """Scan a source: upsert its items, match them against watches, score the matches.

    Safe to run twice, even at once: items are unique per source and external id, matches
    unique per watch and item, and a match is notified at most once (`match_claim_notification`).
    """
    started = time.monotonic()
    now = now or timezone.now()
    report = ScanReport(source_id=source.pk)
    try:
        items, report.pages, report.partial = source_read(source=source)
    except (FetchError, feeds.FeedError) as exc:
        return _failed(source, report, str(exc), now=now, started=started)
    except Exception as exc:  # a hostile feed must not kill the scan without a trace on the source
        log.exception("deal source scan crashed", extra={"source_id": source.pk})
        return _failed(source, report, f"could not read the source ({type(exc).__name__}: {exc!s:.200})", now=now, started=started)
    report.items = len(items)
    with transaction.atomic():
        touched, report.new, report.price_changes = items_upsert(source=source, items=items, now=now)
        if report.partial:
            # Not a success: the unread pages' items must not be taken for gone (reconcile).
            DealSource.objects.filter(id=source.pk).update(
                last_scan_at=now, last_status="partial", last_error=report.partial, last_item_count=len(items)
            )
        else:
            DealSource.objects.filter(id=source.pk).update(
                last_scan_at=now, last_success_at=now, last_status="ok", last_error="", last_item_count=len(items)
            )
    if touched:
        report.matches = listings_match(listings=touched, owner_id=source.owner_id, now=now)
    report.seconds = time.monotonic() - started
    return report


def _failed(source: DealSource, report: ScanReport, error: str, *, now: datetime, started: float) -> ScanReport:
    """Record why a scan failed on the source, where the sources page shows it."""
    report.ok, report.error = False, error[:500]
    DealSource.objects.filter(id=source.pk).update(last_scan_at=now, last_status="error", last_error=report.error)
    report.seconds = time.monotonic() - started
    return report


def scan_summary(report: ScanReport) -> dict:
    by_watch: dict[str, int] = defaultdict(int)
    for match in report.matches:
        by_watch[str(match.watch)] += 1
    return {
        "ok": report.ok,
        "error": report.error,
        "pages": report.pages,
        "items": report.items,
        "new": report.new,
        "price_changes": report.price_changes,
        "partial": report.partial,
        "matches": dict(by_watch),
        "seconds": round(report.seconds, 3),
    }

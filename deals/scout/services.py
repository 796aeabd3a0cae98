"""Deal scout: scanning sources, matching watches, comparables, reconciling vanished items."""

from __future__ import annotations

import bisect
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from tracker.fetching import FetchError

from . import feeds, matching
from .models import DealListing, DealMatch, DealSource, Watch
from .scoring import Comparable, DealScore, deal_score

log = logging.getLogger(__name__)

COMPARABLE_PRODUCT_DAYS = 90
COMPARABLE_LISTING_DAYS = 30


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

    if source.kind == DealSource.Kind.JSON:
        return safe_get(url, accept="json").text
    if source.kind == DealSource.Kind.HTML:
        return safe_get(url, accept="html").text
    result = safe_get(url, accept="any")
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


def source_read(*, source: DealSource) -> tuple[list[feeds.FeedItem], int]:
    """Fetch and parse every page of a source (following `next` up to `max_pages`)."""
    items: dict[str, feeds.FeedItem] = {}
    url: str | None = source.url
    seen_urls: set[str] = set()
    pages = 0
    while url and url not in seen_urls and pages < max(1, source.max_pages):
        seen_urls.add(url)
        content = _fetch(source, url)
        page_items, url = _parse(source, content, url)
        pages += 1
        for item in page_items:
            items.setdefault(item.external_id, item)  # a feed that repeats items: first wins
    return list(items.values()), pages


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
        items, report.pages = source_read(source=source)
    except (FetchError, feeds.FeedError) as exc:
        report.ok, report.error = False, str(exc)[:500]
        DealSource.objects.filter(id=source.pk).update(last_scan_at=now, last_status="error", last_error=report.error)
        report.seconds = time.monotonic() - started
        return report
    report.items = len(items)
    with transaction.atomic():
        touched, report.new, report.price_changes = items_upsert(source=source, items=items, now=now)
        DealSource.objects.filter(id=source.pk).update(
            last_scan_at=now, last_success_at=now, last_status="ok", last_error="", last_item_count=len(items)
        )
    if touched:
        report.matches = listings_match(listings=touched, owner_id=source.owner_id, now=now)
    report.seconds = time.monotonic() - started
    return report


# --- Matching and scoring -----------------------------------------------------------------------


def _condition_ok(watch: Watch, condition: str) -> bool:
    if watch.condition == Watch.Condition.ANY:
        return True
    if watch.condition == Watch.Condition.NEW:
        return condition == "new"
    return condition in ("used", "refurbished")


def watch_accepts(*, watch: Watch, listing: DealListing, title: matching.Title | None = None) -> bool:
    if listing.price is None:
        return False
    if watch.max_price is not None and listing.price > watch.max_price:
        return False
    if not _condition_ok(watch, listing.condition):
        return False
    return matching.query_matches(matching.parse_query(watch.query), title or matching.Title.of(listing.title))


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
        from tracker.history import prices_since
        from tracker.models import PricePoint

        prices.extend(
            prices_since(
                PricePoint.objects.filter(listing__product_id=watch.product_id),
                since=now - timedelta(days=COMPARABLE_PRODUCT_DAYS),
            )
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


def listings_match(*, listings: list[DealListing], owner_id: int | None = None, now: datetime | None = None) -> list[DealMatch]:
    """Match listings against enabled watches (the source owner's, or everyone's for shared sources)."""
    now = now or timezone.now()
    watches = Watch.objects.filter(enabled=True)
    if owner_id is not None:
        watches = watches.filter(owner_id=owner_id)
    # Each watch's longest term must appear somewhere in the squashed title: a substring test
    # that throws out almost every pair before the full match runs.
    prepared = []
    for watch in watches:
        query = matching.parse_query(watch.query)
        if not query.is_empty:
            prepared.append((watch, max((t.squashed for t in query.include), key=len)))
    accepted: dict[int, tuple[Watch, list[DealListing]]] = {}
    for listing in listings:
        title = matching.Title.of(listing.title)
        for watch, anchor in prepared:
            if anchor in title.squashed and watch_accepts(watch=watch, listing=listing, title=title):
                accepted.setdefault(watch.pk, (watch, []))[1].append(listing)
    scored: list[tuple[Watch, DealListing, dict]] = []
    for watch, found in accepted.values():
        # This scan's other matches count as comparables too (each listing leaves itself out).
        pool = watch_pool(watch=watch, now=now)
        pool.listing_prices.update((li.pk, li.price) for li in found)
        pool.prices = sorted([*pool.prices_of_product, *pool.listing_prices.values()])
        for listing in found:
            comparable = pool.comparable_for(listing)
            verdict = deal_score(price=listing.price, comparable=comparable)
            scored.append((watch, listing, _match_values(comparable, verdict, now)))
    return _matches_save(scored, now=now)


def _matches_save(scored: list[tuple[Watch, DealListing, dict]], *, now: datetime) -> list[DealMatch]:
    """Create new matches (a concurrent scan's duplicate is ignored) and re-score known ones."""
    if not scored:
        return []
    DealMatch.objects.bulk_create(
        [DealMatch(watch=w, listing=li, matched_at=now, **values) for w, li, values in scored],
        ignore_conflicts=True,
        batch_size=500,
    )
    keys = {(w.pk, li.pk): values for w, li, values in scored}
    found: list[DealMatch] = []
    listing_ids = sorted({li.pk for _, li, _ in scored})
    for chunk in _chunks(listing_ids):
        found.extend(
            DealMatch.objects.filter(listing_id__in=chunk).select_related("watch", "listing", "listing__source")
        )
    result = []
    rescore = []
    for match in found:
        values = keys.get((match.watch_id, match.listing_id))
        if values is None:
            continue
        if match.scored_at != now:
            rescore.append((*(values[f] for f in _SCORE_FIELDS), match.pk))
            for key, value in values.items():
                setattr(match, key, value)
        result.append(match)
    _scores_write(rescore)
    return result


def _match_values(comparable: Comparable, verdict: DealScore, now: datetime) -> dict:
    return {
        "comparable_price": comparable.price,
        "comparable_count": comparable.count,
        "score": verdict.score,
        "confidence": verdict.confidence,
        "suspicious": verdict.suspicious,
        "reason": verdict.reason[:500],
        "scored_at": now,
    }


def match_should_notify(match: DealMatch) -> bool:
    return (
        not match.suspicious
        and match.notified_at is None
        and match.comparable_count > 0
        and match.score >= match.watch.alert_min_score
    )


def match_claim_notification(*, match_id: int, now: datetime | None = None) -> bool:
    """Mark a match as notified; only the first caller wins (one notification per deal)."""
    return bool(
        DealMatch.objects.filter(id=match_id, notified_at__isnull=True).update(notified_at=now or timezone.now())
    )


# --- Comparables, nightly -----------------------------------------------------------------------


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
            from tracker.history import prices_since
            from tracker.models import PricePoint

            base = prices_since(
                PricePoint.objects.filter(listing__product_id=watch.product_id),
                since=now - timedelta(days=COMPARABLE_PRODUCT_DAYS),
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
            values = _match_values(comparable, verdict, now)
            changed.append((*(values[f] for f in _SCORE_FIELDS), match_id))
        _scores_write(changed)
        updated += len(changed)
    return updated


_SCORE_FIELDS = ("comparable_price", "comparable_count", "score", "confidence", "suspicious", "reason", "scored_at")


def _scores_write(rows: list[tuple]) -> None:
    """One prepared UPDATE run for many rows: far cheaper than bulk_update's CASE chains."""
    if not rows:
        return
    table = connection.ops.quote_name(DealMatch._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(f)} = %s" for f in _SCORE_FIELDS)
    fields = {f.name: f for f in DealMatch._meta.concrete_fields}
    prepared = [
        tuple(fields[name].get_db_prep_save(value, connection) for name, value in zip(_SCORE_FIELDS, row[:-1], strict=False))
        + (row[-1],)
        for row in rows
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(prepared), 5000):
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", prepared[start : start + 5000])


# --- Reconciling vanished items -------------------------------------------------------------------


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
        "matches": dict(by_watch),
        "seconds": round(report.seconds, 3),
    }

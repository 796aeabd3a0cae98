"""Deal scout: scanning sources, matching watches, comparables, reconciling vanished items."""

from __future__ import annotations

import bisect
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
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


def _fetch(source: DealSource, url: str) -> str:
    from tracker.fetching import fetch_document

    kind = {"feed": "feed", "json": "json"}.get(source.kind, "html")
    return fetch_document(url, kind=kind).text


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


def _upsert(*, source: DealSource, item: feeds.FeedItem, now: datetime) -> tuple[DealListing, bool, bool]:
    """Create or update one deal listing; returns (listing, created, price_changed)."""
    values = {
        "url": item.url,
        "title": item.title,
        "currency": item.currency or "",
        "image_url": item.image_url if item.image_url.startswith("http") else "",
        "condition": item.condition,
        "seller": item.seller,
    }
    try:
        with transaction.atomic():
            listing, created = DealListing.objects.get_or_create(
                source=source,
                external_id=item.external_id,
                defaults={**values, "price": item.price, "first_seen_at": now, "last_seen_at": now},
            )
    except IntegrityError:  # a concurrent scan created it a moment ago
        listing, created = DealListing.objects.get(source=source, external_id=item.external_id), False
    if created:
        return listing, True, False
    changed = item.price is not None and listing.price != item.price
    updates = {**values, "last_seen_at": now, "status": DealListing.Status.ACTIVE, "gone_at": None, "lasted": None}
    if changed:
        updates.update(previous_price=listing.price, price=item.price, price_changed_at=now)
    DealListing.objects.filter(id=listing.pk).update(**updates)
    for key, value in updates.items():
        setattr(listing, key, value)
    return listing, False, changed


def source_scan(*, source: DealSource, now: datetime | None = None) -> ScanReport:
    """Scan a source: upsert its items, match them against watches, score the matches.

    Safe to run twice, even at once: items are unique per source and external id, matches
    unique per watch and item, and a match is notified at most once (`match_notify`).
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
    touched: list[DealListing] = []
    for item in items:
        listing, created, changed = _upsert(source=source, item=item, now=now)
        report.new += created
        report.price_changes += changed
        if created or changed:
            touched.append(listing)
    DealSource.objects.filter(id=source.pk).update(
        last_scan_at=now, last_success_at=now, last_status="ok", last_error="", last_item_count=len(items)
    )
    if touched:
        report.matches = listings_match(listings=touched, owner_id=source.owner_id)
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


def listings_match(*, listings: list[DealListing], owner_id: int | None = None) -> list[DealMatch]:
    """Match listings against enabled watches (of the source's owner, or everyone's for shared sources)."""
    watches = Watch.objects.filter(enabled=True).select_related("product")
    if owner_id is not None:
        watches = watches.filter(owner_id=owner_id)
    watches = list(watches)
    matches: list[DealMatch] = []
    for listing in listings:
        title = matching.Title.of(listing.title)
        for watch in watches:
            if not watch_accepts(watch=watch, listing=listing, title=title):
                continue
            matches.append(match_score(watch=watch, listing=listing))
    return matches


def comparable_prices(*, watch: Watch, exclude_listing_id: int | None, now: datetime) -> list[Decimal]:
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
    similar = DealMatch.objects.filter(
        watch=watch,
        suspicious=False,
        listing__price__isnull=False,
        listing__last_seen_at__gte=now - timedelta(days=COMPARABLE_LISTING_DAYS),
    )
    if exclude_listing_id:
        similar = similar.exclude(listing_id=exclude_listing_id)
    prices.extend(similar.values_list("listing__price", flat=True))
    return prices


def match_score(*, watch: Watch, listing: DealListing, now: datetime | None = None) -> DealMatch:
    """Create or re-score the match of a listing to a watch. Safe to run twice."""
    now = now or timezone.now()
    comparable = Comparable.of(comparable_prices(watch=watch, exclude_listing_id=listing.pk, now=now))
    verdict = deal_score(price=listing.price, comparable=comparable)
    values = _match_values(comparable, verdict, now)
    try:
        with transaction.atomic():
            match, created = DealMatch.objects.get_or_create(
                watch=watch, listing=listing, defaults={**values, "matched_at": now}
            )
    except IntegrityError:
        match, created = DealMatch.objects.get(watch=watch, listing=listing), False
    if not created:
        DealMatch.objects.filter(id=match.pk).update(**values)
        for key, value in values.items():
            setattr(match, key, value)
    return match


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
        changed: list[DealMatch] = []
        for match_id, price, suspicious, seen in rows:
            own_in_pool = not suspicious and seen >= recent_cutoff
            values = pool
            if own_in_pool:
                index = bisect.bisect_left(pool, price)
                values = pool[:index] + pool[index + 1 :]
            comparable = Comparable.of(values)
            verdict = deal_score(price=price, comparable=comparable)
            match = DealMatch(id=match_id, **_match_values(comparable, verdict, now))
            changed.append(match)
        for start in range(0, len(changed), 2000):
            DealMatch.objects.bulk_update(
                changed[start : start + 2000],
                ["comparable_price", "comparable_count", "score", "confidence", "suspicious", "reason", "scored_at"],
            )
        updated += len(changed)
    return updated


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


# --- Reading, for the deals page ----------------------------------------------------------------


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
):
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


def sources_visible_to(owner):
    return DealSource.objects.filter(Q(owner=owner) | Q(owner__isnull=True))


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

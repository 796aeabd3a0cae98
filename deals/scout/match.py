"""Deal scout, matching: which watches accept which deal listings.

A match is a property of (watch, listing), not of a scan: a scan matches its new and changed
items against the watches (`listings_match`), a saved or edited watch is matched against the
items already seen (`watch_match`), and both drop the matches that no longer hold and rescore
the watches they touched through the one scoring path (`comparables.watches_score`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Channel, DealListing, DealMatch, DealNotification, Watch
from . import titles
from .comparables import watches_score


def _condition_ok(watch: Watch, condition: str) -> bool:
    if watch.condition == Watch.Condition.ANY:
        return True
    if watch.condition == Watch.Condition.NEW:
        return condition == "new"
    return condition in ("used", "refurbished")


def watch_accepts(*, watch: Watch, listing: DealListing, title: titles.Title | None = None) -> bool:
    if listing.price is None:
        return False
    if watch.max_price is not None and listing.price > watch.max_price:
        return False
    if not _condition_ok(watch, listing.condition):
        return False
    return titles.query_matches(titles.parse_query(watch.query), title or titles.Title.of(listing.title))


def _prepared(watches: Iterable[Watch]) -> list[tuple[Watch, str]]:
    """Each watch with its longest term: that term must appear somewhere in the squashed title,
    a substring test that throws out almost every pair before the full match runs."""
    prepared = []
    for watch in watches:
        query = titles.parse_query(watch.query)
        if not query.is_empty:
            prepared.append((watch, max((t.squashed for t in query.include), key=len)))
    return prepared


def _matches_sync(
    *, pairs: set[tuple[int, int]], watch_ids: set[int], listing_ids: set[int] | None, now: datetime
) -> set[int]:
    """Create the accepted (watch, listing) pairs that are missing and delete the matches in
    scope (these watches, and these listings if given) that no longer hold; a deal already
    told about is kept, with its notification. Returns the watches whose matches changed.
    A concurrent duplicate insert is ignored."""
    scope = DealMatch.objects.filter(listing_id__in=listing_ids) if listing_ids is not None else (
        DealMatch.objects.filter(watch_id__in=watch_ids)
    )
    existing = {
        (w, li): (match_id, told)
        for match_id, w, li, told in scope.values_list("id", "watch_id", "listing_id", "notified_at").iterator()
        if w in watch_ids
    }
    stale = [key for key in existing if key not in pairs]
    doomed = [existing[key][0] for key in stale if existing[key][1] is None]
    for start in range(0, len(doomed), 500):
        DealMatch.objects.filter(id__in=doomed[start : start + 500]).delete()
    fresh = [key for key in pairs if key not in existing]
    DealMatch.objects.bulk_create(
        [DealMatch(watch_id=w, listing_id=li, matched_at=now, scored_at=now) for w, li in fresh],
        ignore_conflicts=True,
        batch_size=500,
    )
    return {w for w, _ in stale} | {w for w, _ in fresh}


def _matches_of(pairs: set[tuple[int, int]]) -> list[DealMatch]:
    listing_ids = sorted({li for _, li in pairs})
    found: list[DealMatch] = []
    for start in range(0, len(listing_ids), 500):
        found.extend(
            DealMatch.objects.filter(listing_id__in=listing_ids[start : start + 500]).select_related(
                "watch", "listing", "listing__source"
            )
        )
    return [m for m in found if (m.watch_id, m.listing_id) in pairs]


def listings_match(*, listings: list[DealListing], owner_id: int | None = None, now: datetime | None = None) -> list[DealMatch]:
    """Match a scan's new and changed listings against enabled watches (the source owner's, or
    everyone's for shared sources); rescore the watches touched. Returns those listings' matches.

    Safe to run twice: matches are unique per (watch, listing) and scoring only overwrites."""
    now = now or timezone.now()
    watches = Watch.objects.filter(enabled=True)
    if owner_id is not None:
        watches = watches.filter(owner_id=owner_id)
    prepared = _prepared(watches)
    pairs: set[tuple[int, int]] = set()
    for listing in listings:
        title = titles.Title.of(listing.title)
        for watch, anchor in prepared:
            if anchor in title.squashed and watch_accepts(watch=watch, listing=listing, title=title):
                pairs.add((watch.pk, listing.pk))
    changed = _matches_sync(
        pairs=pairs, watch_ids={w.pk for w, _ in prepared}, listing_ids={li.pk for li in listings}, now=now
    )
    touched = changed | {w for w, _ in pairs}
    by_id = {w.pk: w for w, _ in prepared}
    watches_score(watches=[by_id[w] for w in sorted(touched) if w in by_id], now=now)
    return _matches_of(pairs)


def watch_match(*, watch: Watch, now: datetime | None = None) -> list[DealMatch]:
    """Match a saved or edited watch against the active items of the sources its owner sees,
    drop the matches it no longer accepts, rescore it. Returns its matches.

    Safe to run twice: the same pairs are found and the scores overwritten."""
    now = now or timezone.now()
    pairs: set[tuple[int, int]] = set()
    if watch.enabled:
        [(_, anchor)] = _prepared([watch]) or [(watch, None)]
        candidates = DealListing.objects.filter(
            Q(source__owner_id=watch.owner_id) | Q(source__owner__isnull=True),
            status=DealListing.Status.ACTIVE,
            price__isnull=False,
        ).only("id", "title", "price", "condition")
        for listing in candidates.iterator(chunk_size=2000):
            title = titles.Title.of(listing.title)
            if anchor and anchor in title.squashed and watch_accepts(watch=watch, listing=listing, title=title):
                pairs.add((watch.pk, listing.pk))
    _matches_sync(pairs=pairs, watch_ids={watch.pk}, listing_ids=None, now=now)
    watches_score(watches=[watch], now=now)
    return _matches_of(pairs)


def match_should_notify(match: DealMatch) -> bool:
    own_drop = match.listing.previous_price is not None and match.listing.price is not None and (
        match.listing.price < match.listing.previous_price
    )
    return (
        not match.suspicious
        and match.notified_at is None
        and (match.comparable_count > 0 or own_drop)
        and match.score >= match.watch.alert_min_score
    )


def match_claim_notification(*, match_id: int, now: datetime | None = None) -> bool:
    """Mark a match as notified; only the first caller wins (one notification per deal)."""
    return bool(
        DealMatch.objects.filter(id=match_id, notified_at__isnull=True).update(notified_at=now or timezone.now())
    )


@dataclass(frozen=True)
class Told:
    """What telling a deal did: the outbox rows made (immediate ones to send now)."""

    match: DealMatch
    rows: int
    immediate: list[int]


def deal_tell(*, match: DealMatch) -> Told | None:
    """Create the outbox rows for a deal worth telling: one per enabled channel of the watch's
    owner, and one per item and channel however many watches the item matched. None when the
    deal is not worth telling or was told already.

    Safe to run twice: the match is claimed once (`notified_at`), and rows are unique per
    (match, channel) and per (item, channel)."""
    if not match_should_notify(match):
        return None
    now = timezone.now()
    if not match_claim_notification(match_id=match.pk, now=now):
        return None
    match.notified_at = now
    rows, immediate = 0, []
    for channel in Channel.objects.filter(owner_id=match.watch.owner_id, enabled=True):
        digest = channel.mode == Channel.Mode.DIGEST
        try:
            with transaction.atomic():
                row = DealNotification.objects.create(
                    match=match, listing_id=match.listing_id, channel=channel, digest=digest
                )
        except IntegrityError:
            continue  # this item was told to this channel already (another watch matched it)
        rows += 1
        if not digest:
            immediate.append(row.pk)
    return Told(match, rows, immediate)


def deal_notify(*, match: DealMatch) -> list[int]:
    """`deal_tell`, returning the ids to send at once (digest channels get it hourly)."""
    told = deal_tell(match=match)
    return told.immediate if told else []

"""Deal scout, matching: which watches accept which deal listings, scored against comparables."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Channel, DealListing, DealMatch, DealNotification, Watch
from . import titles
from .comparables import SCORE_FIELDS, match_values, scores_write, watch_pool
from .scoring import deal_score


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
        query = titles.parse_query(watch.query)
        if not query.is_empty:
            prepared.append((watch, max((t.squashed for t in query.include), key=len)))
    accepted: dict[int, tuple[Watch, list[DealListing]]] = {}
    for listing in listings:
        title = titles.Title.of(listing.title)
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
            scored.append((watch, listing, match_values(comparable, verdict, now)))
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
    for start in range(0, len(listing_ids), 500):
        chunk = listing_ids[start : start + 500]
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
            rescore.append((*(values[f] for f in SCORE_FIELDS), match.pk))
            for key, value in values.items():
                setattr(match, key, value)
        result.append(match)
    scores_write(rescore)
    return result


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


def deal_notify(*, match: DealMatch) -> list[int]:
    """Create the outbox rows for a deal worth telling, one per enabled channel of the watch's
    owner; returns the ids to send at once (digest channels get it with the hourly digest).

    Safe to run twice: the match is claimed once (`notified_at`) and rows are unique per
    (match, channel).
    """
    if not match_should_notify(match):
        return []
    if not match_claim_notification(match_id=match.pk):
        return []
    created: list[int] = []
    for channel in Channel.objects.filter(owner_id=match.watch.owner_id, enabled=True):
        digest = channel.mode == Channel.Mode.DIGEST
        try:
            with transaction.atomic():
                row = DealNotification.objects.create(match=match, channel=channel, digest=digest)
        except IntegrityError:
            continue
        if not digest:
            created.append(row.pk)
    return created


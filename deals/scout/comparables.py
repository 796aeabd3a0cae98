"""Deal scout, comparables: what a watched thing usually costs, and each match's score against it.

One path scores the matches of a watch (`watches_score`): after a scan, when a watch is saved,
and nightly for all (`comps_refresh`). A watch's pool of comparable prices is
- its matched listings seen lately, one entry per distinct item: the same item in three
  sources counts once (`item_keys`: the same canonical link, or the same normalised title and
  price);
- the linked product's own price history (`product_history`), each point weighted by its age
  (half-life HISTORY_HALF_LIFE_DAYS, HISTORY_MAX_WEIGHT items' worth at most);
trimmed with a robust rule (`pool_trim`): an entry further than TRIM_MADS scaled MADs from the
weighted median, or under SUSPICIOUS_BELOW of it, is left out (accessories, scams, wrong
variants). Each listing is then compared with the kept pool without its own item.

Prices in other currencies are converted through the reference rates (tracker.rates) into one
pool, in the watch's most common currency that has a rate. A currency without a rate is never
compared with another by its raw numbers: its prices make a pool of their own, left out of the
others' comparables, and the reasons say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import median
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.db import connection, transaction
from django.utils import timezone

from tracker.rates import money_convert, rates_latest

from ..models import DealListing, DealMatch, Watch
from .scoring import SUSPICIOUS_BELOW, Comparable, deal_score

COMPARABLE_PRODUCT_DAYS = 90
COMPARABLE_LISTING_DAYS = 30
HISTORY_HALF_LIFE_DAYS = 30
HISTORY_MAX_WEIGHT = 10.0
TRIM_MADS = 3
# The spread is never taken narrower than this share of the median: with a few equal prices
# the MAD is zero, and a fair deal 5 % under would otherwise be cut as an outlier.
MIN_SPREAD = 0.10
SNAPSHOT_ITEMS = 12

# Query parameters that say who sent the visitor, not what the page shows.
_TRACKING = re.compile(r"^(utm_.*|ref|ref_|tag|affid|aff_id|affiliate|clickid|gclid|fbclid|msclkid|mc_[a-z]+|campaign|source|src|cmp|spm|yclid|igshid)$", re.I)
# Prefixed amounts first: in "WH-1000XM5 $289" the model number's 5 must not take the "$".
_PRICE_PREFIXED = re.compile(r"(?:US\$|[$€£¥]|\b(?:USD|EUR|GBP|PLN)\b)\s?\d[\d.,]*")
_PRICE_SUFFIXED = re.compile(r"\b\d[\d.,]*\s?(?:[$€£]|\b(?:USD|EUR|GBP|PLN|kr)\b|zł)")
_WORD = re.compile(r"[^\W_]+")


def url_canonical(url: str) -> str:
    """The link without what varies between the sources that share it: scheme, www., tracking
    parameters, fragment, a trailing slash. "" for no link."""
    if not url:
        return ""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host:
        return ""
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k))
    path = parts.path.rstrip("/") or "/"
    return f"{host}{path}" + (f"?{urlencode(query)}" if query else "")


def title_fingerprint(title: str, price: Decimal) -> str:
    """Normalised words of the title (prices in it left out, order ignored) and the price."""
    words = sorted(set(_WORD.findall(_PRICE_SUFFIXED.sub(" ", _PRICE_PREFIXED.sub(" ", title)).lower())))
    return f"{' '.join(words)}|{Decimal(price).quantize(Decimal('1'))}"


def item_keys(*, url: str, title: str, price: Decimal) -> tuple[str, str]:
    return url_canonical(url), title_fingerprint(title, price)


def product_history(*, product_id: int, since: datetime) -> list[tuple[Decimal, str, datetime]]:
    """The linked product's own prices since `since`: (price, currency, when seen). The one
    place the scout reads tracker's price history."""
    from tracker.history import spans_overlapping
    from tracker.models import PricePoint

    # History is kept as changes: a point stands for every check that found its price, so it
    # counts once per check, as when each check had its own row.
    seen: list[tuple[Decimal, str, datetime]] = []
    for span in spans_overlapping(PricePoint.objects.filter(listing__product_id=product_id), since=since):
        count = span.checks_between(since, None)
        first = span.first_check_since(since)
        step = (span.last - span.first) / (span.count - 1) if span.count > 1 else None
        seen.extend((Decimal(span.price), span.currency, first + step * k if step else first) for k in range(count))
    return seen


@dataclass
class Entry:
    """One item in a pool: a distinct item (its listings) or a point of the product's history."""

    price: Decimal
    weight: float
    listing_ids: list[int] = field(default_factory=list)
    title: str = ""
    source: str = ""
    url: str = ""
    why_left_out: str = ""
    original: tuple[Decimal, str] | None = None  # the price as its feed gave it, when converted


def listings_group(rows: list[tuple]) -> list[Entry]:
    """Rows (listing id, price, url, title, source name[, original price and currency when
    converted]) as distinct items: rows that share a canonical link or a title fingerprint are
    one item, priced at the median of its rows."""
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        while parent.setdefault(i, i) != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for index, (_, price, url, title, *_) in enumerate(rows):
        find(index)
        for key in item_keys(url=url, title=title, price=price):
            if not key:
                continue
            other = first_with.setdefault(key, index)
            if other != index:
                parent[find(index)] = find(other)
    groups: dict[int, list[int]] = {}
    for index in range(len(rows)):
        groups.setdefault(find(index), []).append(index)
    entries = []
    for members in groups.values():
        head = rows[members[0]]
        entries.append(
            Entry(
                price=Decimal(median(rows[m][1] for m in members)),
                weight=1.0,
                listing_ids=[rows[m][0] for m in members],
                title=head[3],
                source=", ".join(sorted({rows[m][4] for m in members})),
                url=head[2],
                original=head[5] if len(members) == 1 and len(head) > 5 else None,
            )
        )
    return entries


def history_entries(points: list[tuple[Decimal, datetime]], *, now: datetime) -> list[Entry]:
    """History points weighted by age; all together weigh HISTORY_MAX_WEIGHT at most."""
    entries = [
        Entry(price=price, weight=0.5 ** (max(0.0, (now - at).total_seconds()) / 86400 / HISTORY_HALF_LIFE_DAYS))
        for price, at in points
    ]
    total = sum(e.weight for e in entries)
    if total > HISTORY_MAX_WEIGHT:
        for e in entries:
            e.weight *= HISTORY_MAX_WEIGHT / total
    return entries


def weighted_median(prices: list[Decimal], cumulative: list[float], *, skip: int | None = None, skip_weight: float = 0.0) -> Decimal | None:
    """The weighted median of sorted prices (`cumulative`: running sum of their weights),
    leaving out the entry at `skip`, by bisection: O(log n) per listing."""
    removed = skip_weight if skip is not None else 0.0
    total = (cumulative[-1] if cumulative else 0.0) - removed
    if total <= 1e-9:
        return None
    half = total / 2

    def upto(i: int) -> float:
        return cumulative[i] - (removed if skip is not None and i >= skip else 0.0)

    lo, hi = 0, len(prices) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if upto(mid) >= half - 1e-9:
            hi = mid
        else:
            lo = mid + 1
    if lo == skip:
        lo += 1
    if abs(upto(lo) - half) < 1e-9:  # exactly half below: between this price and the next
        nxt = lo + 1 + (1 if lo + 1 == skip else 0)
        if nxt < len(prices):
            return (prices[lo] + prices[nxt]) / 2
    return prices[lo]


@dataclass
class Pool:
    """A watch's kept comparables, sorted, and what was left out."""

    kept: list[Entry]
    left_out: list[Entry]
    spread: float  # scaled MAD of the kept prices over their median (0 when one price)
    prices: list[Decimal] = field(default_factory=list)
    cumulative: list[float] = field(default_factory=list)
    index_of: dict[int, int] = field(default_factory=dict)  # listing id -> its entry in `kept`

    def __post_init__(self) -> None:
        self.kept.sort(key=lambda e: e.price)
        running = 0.0
        for i, entry in enumerate(self.kept):
            running += entry.weight
            self.prices.append(entry.price)
            self.cumulative.append(running)
            for listing_id in entry.listing_ids:
                self.index_of[listing_id] = i

    def comparable_for(self, listing_id: int) -> Comparable:
        """The pool's weighted median without the listing's own item."""
        skip = self.index_of.get(listing_id)
        skip_weight = self.kept[skip].weight if skip is not None else 0.0
        price = weighted_median(self.prices, self.cumulative, skip=skip, skip_weight=skip_weight)
        if price is None:
            return Comparable(None, 0)
        weight = (self.cumulative[-1] if self.cumulative else 0.0) - skip_weight
        return Comparable(Decimal(price).quantize(Decimal("0.01")), max(1, round(weight)), spread=self.spread)


def pool_trim(entries: list[Entry]) -> Pool:
    """Leave out what a median with a MAD trim calls an outlier, and what is too cheap to be the
    thing (under SUSPICIOUS_BELOW of the median): accessories, scams, another variant."""
    if not entries:
        return Pool([], [], 0.0)
    ordered = sorted(entries, key=lambda e: e.price)
    cumulative, running = [], 0.0
    for e in ordered:
        running += e.weight
        cumulative.append(running)
    middle = weighted_median([e.price for e in ordered], cumulative)
    deviations = sorted(((abs(e.price - middle), e.weight) for e in ordered), key=lambda d: d[0])
    dev_cumulative, running = [], 0.0
    for _, w in deviations:
        running += w
        dev_cumulative.append(running)
    mad = weighted_median([d for d, _ in deviations], dev_cumulative) or Decimal(0)
    scale = max(Decimal("1.4826") * mad, Decimal(str(MIN_SPREAD)) * middle)
    kept, left_out = [], []
    for e in ordered:
        if e.price < middle * SUSPICIOUS_BELOW:
            e.why_left_out = f"under {int(SUSPICIOUS_BELOW * 100)} % of the median {middle:.2f}: accessory, wrong item or scam?"
            left_out.append(e)
        elif abs(e.price - middle) > TRIM_MADS * scale:
            e.why_left_out = f"outlier: {'below' if e.price < middle else 'above'} the median {middle:.2f} by more than {TRIM_MADS}× the spread"
            left_out.append(e)
        else:
            kept.append(e)
    spread = 0.0
    if len(kept) > 1:
        kept_median = Decimal(median(e.price for e in kept))
        kept_mad = Decimal(median(abs(e.price - kept_median) for e in kept))
        spread = float(Decimal("1.4826") * kept_mad / kept_median) if kept_median else 0.0
    return Pool(kept, left_out, round(spread, 3))


@dataclass(frozen=True)
class MatchRow:
    match_id: int
    listing_id: int
    price: Decimal
    previous_price: Decimal | None
    url: str
    title: str
    source: str
    in_pool: bool
    currency: str = ""


@dataclass
class Pools:
    """A watch's pools, keyed by the currency their prices are in: one holding every currency
    the rates convert (in the most common of them), and one per currency without a rate."""

    by_key: dict[str, Pool]
    pool_of: dict[str, str]  # a currency -> the key of the pool its prices are compared in
    rates: dict[str, Decimal]
    # currency -> how many of its entries the pool had (items and history points)
    counts: dict[str, int] = field(default_factory=dict)
    notes: dict[str, tuple[str, str]] = field(default_factory=dict)  # a currency -> its reason's notes, worded once

    def comparable_for(self, row: MatchRow) -> Comparable:
        """The row's comparable in the row's own currency, with a note of the currencies
        converted into it and of those left out for want of a rate."""
        key = self.pool_of.get(row.currency, row.currency)
        found = self.by_key[key].comparable_for(row.listing_id)
        price = found.price
        if price is not None and key != row.currency:
            price = money_convert(amount=price, source=key, target=row.currency, rates=self.rates)
        converted, left_out = self._notes(row.currency, key)
        note = "; ".join(part for part in (converted if price is not None else "", left_out) if part)
        return Comparable(price, found.count if price is not None else 0, spread=found.spread, note=note)

    def _notes(self, currency: str, key: str) -> tuple[str, str]:
        if currency not in self.notes:  # once per currency: a watch may have thousands of matches
            converted = sorted(c for c in self.counts if c != currency and self.pool_of.get(c, c) == key)
            left_out = sorted(c for c in self.counts if self.pool_of.get(c, c) != key)
            self.notes[currency] = (
                f"prices in {_names(converted)} converted at the reference rates" if converted else "",
                f"prices in {_names(left_out)} left out: no exchange rate to compare them" if left_out else "",
            )
        return self.notes[currency]


def _names(currencies: list[str]) -> str:
    return ", ".join(code or "no named currency" for code in currencies)


def _pool_keys(*, counts: dict[str, int], rates: dict[str, Decimal]) -> dict[str, str]:
    """Which pool each currency's prices go into: every currency with a rate into the most
    common of them (ties: alphabetical), each other currency into a pool of its own."""
    convertible = sorted((c for c in counts if c and c.upper() in rates), key=lambda c: (-counts[c], c))
    common = convertible[0] if convertible else None
    return {c: common if c in convertible else c for c in counts}


def watch_pools(*, watch: Watch, rows: list[MatchRow], now: datetime, rates: dict[str, Decimal] | None = None) -> Pools:
    """The watch's pools: its matched items seen lately and its product's history, each price
    converted into its pool's currency (`rates`: units per euro, default the latest)."""
    rates = rates_latest() if rates is None else rates
    history = (
        product_history(product_id=watch.product_id, since=now - timedelta(days=COMPARABLE_PRODUCT_DAYS))
        if watch.product_id
        else []
    )
    counts: dict[str, int] = {}
    for currency in [r.currency for r in rows if r.in_pool] + [c for _, c, _ in history]:
        counts[currency] = counts.get(currency, 0) + 1
    pool_of = _pool_keys(counts={**{r.currency: 0 for r in rows}, **counts}, rates=rates)

    def into(amount: Decimal, currency: str, key: str) -> Decimal:
        if currency == key:
            return amount
        return money_convert(amount=amount, source=currency, target=key, rates=rates)

    pools = {}
    for key in set(pool_of.values()) or {""}:
        items = []
        for r in rows:
            if r.in_pool and pool_of[r.currency] == key:
                price = into(r.price, r.currency, key)
                original = (r.price, r.currency) if r.currency != key else None
                items.append((r.listing_id, price, r.url, r.title, r.source, original))
        points = [(into(price, currency, key), at) for price, currency, at in history if pool_of[currency] == key]
        pools[key] = pool_trim(listings_group(items) + history_entries(points, now=now))
    return Pools(by_key=pools, pool_of=pool_of, rates=rates, counts=counts)


def pools_snapshot(pools: Pools, *, now: datetime, seen: int) -> dict:
    """What the deals page shows as the comparables used and left out (every pool's), each
    price in its pool's currency, and which pool a currency's deals were compared in."""
    snapshot: dict = {"at": now.isoformat(), "seen": seen, "distinct": 0, "history_points": 0, "items": [], "left_out": [],
                      "pool_of": pools.pool_of}
    for currency, pool in sorted(pools.by_key.items(), key=lambda kv: -len(kv[1].kept)):
        part = pool_snapshot(pool, now=now, seen=seen)
        snapshot["distinct"] += part["distinct"]
        snapshot["history_points"] += part["history_points"]
        snapshot["items"] += [{**item, "currency": currency} for item in part["items"]]
        snapshot["left_out"] += [{**item, "currency": currency} for item in part["left_out"]]
        snapshot.setdefault("spread", part["spread"])
    return snapshot


def pool_snapshot(pool: Pool, *, now: datetime, seen: int) -> dict:
    """One pool's comparables used and left out."""

    def entry(e: Entry) -> dict:
        return {
            "price": str(e.price.quantize(Decimal("0.01"))),
            "title": e.title or "price history of the linked product",
            "source": e.source,
            "url": e.url,
            "listings": e.listing_ids,
            "why": e.why_left_out,
            "original": {"price": str(e.original[0]), "currency": e.original[1]} if e.original else None,
        }

    items = [e for e in pool.kept if e.listing_ids]
    history = [e for e in pool.kept if not e.listing_ids]
    return {
        "at": now.isoformat(),
        "seen": seen,
        "distinct": len(items),
        "spread": pool.spread,
        "history_points": len(history),
        "history_weight": round(sum(e.weight for e in history), 2),
        "items": [entry(e) for e in items[:SNAPSHOT_ITEMS]],
        "left_out": [entry(e) for e in pool.left_out if e.listing_ids][:SNAPSHOT_ITEMS],
    }


SCORE_FIELDS = ("comparable_price", "comparable_count", "score", "confidence", "suspicious", "reason", "scored_at")


def _rows_of(watch_ids: list[int], now: datetime) -> dict[int, list[MatchRow]]:
    recent = now - timedelta(days=COMPARABLE_LISTING_DAYS)
    rows: dict[int, list[MatchRow]] = {w: [] for w in watch_ids}
    for start in range(0, len(watch_ids), 500):
        found = DealMatch.objects.filter(watch_id__in=watch_ids[start : start + 500], listing__price__isnull=False).values_list(
            "id", "watch_id", "listing_id", "listing__price", "listing__previous_price", "listing__url",
            "listing__title", "listing__source__name", "listing__status", "listing__last_seen_at",
            "listing__currency",
        )
        for mid, wid, lid, price, previous, url, title, source, status, seen, currency in found.iterator():
            in_pool = status == DealListing.Status.ACTIVE and seen >= recent
            rows[wid].append(MatchRow(mid, lid, price, previous, url, title, source, in_pool, currency or ""))
    return rows


def watches_score(*, watches: list[Watch], now: datetime | None = None) -> int:
    """Score every match of these watches against their pools; keep each pool's snapshot on its
    watch. Returns how many matches were scored. Safe to run twice: it only overwrites scores."""
    now = now or timezone.now()
    by_watch = _rows_of([w.pk for w in watches], now)
    rates = rates_latest()
    changed: list[tuple] = []
    for watch in watches:
        rows = by_watch.get(watch.pk, [])
        pools = watch_pools(watch=watch, rows=rows, now=now, rates=rates)
        for row in rows:
            comparable = pools.comparable_for(row)
            verdict = deal_score(price=row.price, comparable=comparable, previous_price=row.previous_price)
            changed.append(
                (comparable.price, comparable.count, verdict.score, verdict.confidence, verdict.suspicious,
                 verdict.reason[:500], now, row.match_id)
            )
        Watch.objects.filter(pk=watch.pk).update(comparables=pools_snapshot(pools, now=now, seen=len(rows)))
    scores_write(changed)
    return len(changed)


def comps_refresh(*, now: datetime | None = None) -> int:
    """Rescore every enabled watch's matches (nightly). Returns how many were updated.

    Per watch, the matches are read once and the pool kept sorted; each listing's own item is
    taken out by bisection, so 100,000 listings cost one query per few hundred watches."""
    now = now or timezone.now()
    updated = 0
    watches = list(Watch.objects.filter(enabled=True).order_by("pk"))
    for start in range(0, len(watches), 200):
        updated += watches_score(watches=watches[start : start + 200], now=now)
    return updated


def scores_write(rows: list[tuple]) -> None:
    """One prepared UPDATE run for many rows: far cheaper than bulk_update's CASE chains.

    The scout's one raw-SQL shortcut (see ARCHITECTURE.md): the nightly rescoring writes up to
    100,000 rows. Column names come from the model's metadata, never from the field names."""
    if not rows:
        return
    fields = {f.name: f for f in DealMatch._meta.concrete_fields}
    table = connection.ops.quote_name(DealMatch._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(fields[name].column)} = %s" for name in SCORE_FIELDS)
    # Most values repeat (the scoring time, flags, counts, common prices): each is prepared for
    # the database once, which was most of the cost of rescoring 100,000 matches.
    memo: dict[tuple, object] = {}

    def prep(name: str, value: object) -> object:
        key = (name, type(value), value)
        if key not in memo:
            memo[key] = fields[name].get_db_prep_save(value, connection)
        return memo[key]

    prepared = [
        tuple(prep(name, value) for name, value in zip(SCORE_FIELDS, row[:-1], strict=False)) + (row[-1],)
        for row in rows
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(prepared), 5000):
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", prepared[start : start + 5000])

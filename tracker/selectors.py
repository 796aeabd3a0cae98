"""Read-side queries for the web UI: what a person sees about their products. No writes here."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from . import history
from .models import CheckLog, ImportJob, Listing, Preference, PricePoint, Product
from .rates import money_convert as rates_money_convert
from .rates import rates_latest

ACTIVE_OUTCOMES = CheckLog.ACTIVE_OUTCOMES
PROBLEM_STATUSES = (
    Listing.Status.ERROR,
    Listing.Status.BLOCKED,
    Listing.Status.NO_PRICE,
    Listing.Status.FLAGGED,
    Listing.Status.BROKEN,
    Listing.Status.INVALID,
)
SPARKLINE_DAYS = 30


def products_for(*, owner) -> QuerySet[Product]:
    """A person's products, newest first."""
    return Product.objects.filter(owner=owner).order_by("-created_at", "-pk")


def product_get(*, owner, product_id: int) -> Product:
    """One of the person's products; 404 for anyone else's, so ids reveal nothing."""
    return get_object_or_404(Product, pk=product_id, owner=owner)


def listing_get(*, owner, listing_id: int) -> Listing:
    return get_object_or_404(
        Listing.objects.select_related("product", "store"), pk=listing_id, product__owner=owner
    )


def listing_find_by_url(*, owner, url: str) -> Listing | None:
    """The person's listing of this exact URL, in any product."""
    return Listing.objects.select_related("product").filter(product__owner=owner, url=url).first()


def listing_is_checking(*, listing: Listing) -> bool:
    """Whether a check of this listing is queued or running."""
    return CheckLog.objects.active().filter(listing=listing).exists()


def _listings_annotated(queryset: QuerySet[Listing]) -> list[Listing]:
    """Listings with their history summary (kept by the check path: no history is read)
    under the names the pages use, and whether a check is under way (`checking`)."""
    listings = list(
        queryset.select_related("store").annotate(lowest_seen=F("lowest_price"), highest_seen=F("highest_price"))
    )
    # One query on the partial index of checks under way finds the few there are; a subquery
    # per listing walked each listing's whole check log instead.
    active = set(
        CheckLog.objects.active().filter(listing_id__in=[item.pk for item in listings])
        .values_list("listing_id", flat=True)
    )
    for item in listings:
        item.checking = item.pk in active
    return listings


@dataclass
class ProductSummary:
    """One row of the dashboard."""

    product: Product
    listings: list[Listing]
    current: Listing | None  # the listing with the lowest current price
    price: Decimal | None
    currency: str
    change: Decimal | None  # current price minus the price before the latest change
    change_pct: Decimal | None
    previous_price: Decimal | None
    previous_price_at: datetime | None  # when the previous, different price was last seen
    lowest_seen: Decimal | None
    status: str  # "ok", "checking", "paused", "pending" or a Listing.Status problem value
    status_label: str
    status_reason: str
    trend: list[tuple[datetime, Decimal]] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # filled by tracker.ui.dashboard_rows_register hooks
    # The price in the person's display currency, when they chose one and there are rates.
    converted: Decimal | None = None
    display_currency: str = ""
    # False when the stores price in currencies there are no exchange rates for: then `current`
    # is only the cheapest in the most common currency, and the page must not call it cheapest.
    comparable: bool = True

    @property
    def checking(self) -> bool:
        return self.status == "checking"


def _pct(new: Decimal, old: Decimal) -> Decimal | None:
    if not old:
        return None
    return ((new - old) / old * 100).quantize(Decimal("0.1"))


def listing_cheapest(listings: Sequence[Listing], *, rates: dict[str, Decimal]) -> tuple[Listing | None, bool]:
    """The listing with the lowest current price, and whether every priced store was compared.

    Prices in several currencies are compared through the reference rates; a currency without a
    rate makes them not comparable, and then the cheapest within the most common currency is
    given (with False), never a price that only looks cheapest because the others were ignored.
    """
    priced = [item for item in listings if item.last_price is not None]
    if not priced:
        return None, True
    trusted = [item for item in priced if item.status == Listing.Status.OK] or priced
    currencies = {item.currency.upper() for item in trusted}
    if len(currencies) > 1 and all(code in rates for code in currencies):
        in_euro = {
            item.pk: rates_money_convert(amount=item.last_price, source=item.currency, target="EUR", rates=rates)
            for item in trusted
        }
        return min(trusted, key=lambda item: (in_euro[item.pk], item.pk)), True
    currency = Counter(item.currency for item in trusted).most_common(1)[0][0]
    same = [item for item in trusted if item.currency == currency]
    return min(same, key=lambda item: (item.last_price, item.pk)), len(currencies) == 1


def prices_converted(*, owner, listings: Sequence[Listing]) -> dict[int, tuple[Decimal, str]]:
    """Each listing's current price in the person's display currency (listing id → amount,
    currency), for the listings whose price is in another currency that has a rate."""
    display = display_currency_for(owner=owner)
    if not display:
        return {}
    rates = rates_latest()
    converted = {}
    for listing in listings:
        if listing.last_price is None or listing.currency.upper() == display:
            continue
        amount = rates_money_convert(amount=listing.last_price, source=listing.currency, target=display, rates=rates)
        if amount is not None:
            converted[listing.pk] = (amount, display)
    return converted


def display_currency_for(*, owner) -> str:
    """The currency a person chose to see prices in; blank when they chose none."""
    return Preference.objects.filter(user=owner).values_list("display_currency", flat=True).first() or ""


def _product_status(listings: Sequence[Listing]) -> tuple[str, str, str]:
    if not listings:
        return "pending", "No store yet", "Add a store's page to start tracking."
    active = [item for item in listings if not item.paused]
    if not active:
        return "paused", "Paused", ""
    if any(getattr(item, "checking", False) for item in active):
        return "checking", "Checking…", ""
    for status in PROBLEM_STATUSES:
        troubled = [item for item in active if item.status == status]
        if troubled:
            item = troubled[0]
            reason = item.status_reason or item.get_status_display()
            if len(active) > 1:
                reason = f"{item.store}: {reason}"
            return status, item.get_status_display(), reason
    if all(item.status == Listing.Status.PENDING for item in active):
        return "pending", Listing.Status.PENDING.label, ""
    return "ok", "OK", ""


def product_summaries(
    *, owner, product_ids: Sequence[int] | None = None, display_currency: str | None = None
) -> list[ProductSummary]:
    """Dashboard rows for a person's products (or the given ones of theirs), in a fixed number
    of queries whatever the number of products, from the listings' summaries (kept by the
    check path): the price history itself is not read. Prices are also given in
    `display_currency` (default: the person's choice) where there are rates for it."""
    products = products_for(owner=owner)
    if product_ids is not None:
        products = products.filter(pk__in=list(product_ids))
    products_list = list(products)
    listings = _listings_annotated(Listing.objects.filter(product__in=[p.pk for p in products_list]))
    by_product: dict[int, list[Listing]] = defaultdict(list)
    for listing in listings:
        by_product[listing.product_id].append(listing)

    rates = rates_latest()
    display = display_currency if display_currency is not None else display_currency_for(owner=owner)
    compared = {p.pk: listing_cheapest(by_product[p.pk], rates=rates) for p in products_list}
    cheapest = {pk: found for pk, (found, _) in compared.items()}
    since = timezone.now() - timedelta(days=SPARKLINE_DAYS)
    trends = {
        listing.pk: history.trend_points(listing.trend, since=since, last_at=listing.last_price_at)
        for listing in cheapest.values()
        if listing is not None
    }

    rows = []
    for product in products_list:
        product_listings = by_product[product.pk]
        current = cheapest[product.pk]
        status, label, reason = _product_status(product_listings)
        change = change_pct = lowest = None
        if current is not None:
            lowest = min(
                (
                    item.lowest_seen
                    for item in product_listings
                    if item.currency == current.currency and item.lowest_seen is not None
                ),
                default=None,
            )
            if current.previous_price is not None:
                change = current.last_price - current.previous_price
                change_pct = _pct(current.last_price, current.previous_price)
        rows.append(
            ProductSummary(
                product=product,
                listings=product_listings,
                current=current,
                price=current.last_price if current else None,
                currency=current.currency if current else "",
                change=change,
                change_pct=change_pct,
                previous_price=current.previous_price if current else None,
                previous_price_at=current.previous_price_at if current else None,
                lowest_seen=lowest,
                status=status,
                status_label=label,
                status_reason=reason,
                trend=trends.get(current.pk, []) if current else [],
                converted=(
                    rates_money_convert(
                        amount=current.last_price, source=current.currency, target=display, rates=rates
                    )
                    if current is not None and display and display != current.currency.upper()
                    else None
                ),
                display_currency=display,
                comparable=compared[product.pk][1],
            )
        )
    return rows


def listing_history(*, listing: Listing, days: int | None = None) -> list[tuple[datetime, Decimal]]:
    """A listing's prices, oldest first, each at its first check and its last confirmation;
    only the last `days` days when given."""
    since = timezone.now() - timedelta(days=days) if days else None
    return history.spans_as_points(
        history.spans_overlapping(PricePoint.objects.filter(listing=listing), since=since), since=since
    )


@dataclass
class ListingStats:
    current: Decimal | None
    lowest: Decimal | None
    highest: Decimal | None
    first: Decimal | None
    change_pct: Decimal | None  # current against the first price in the period


def listing_stats(points: Sequence[tuple[datetime, Decimal]], *, current: Decimal | None) -> ListingStats:
    """Figures over a history: pure, so it works on any period the page shows."""
    prices = [price for _, price in points]
    if not prices:
        return ListingStats(current, None, None, None, None)
    now = current if current is not None else prices[-1]
    return ListingStats(
        current=now,
        lowest=min(prices),
        highest=max(prices),
        first=prices[0],
        change_pct=_pct(now, prices[0]),
    )


@dataclass
class ListingDetail:
    listing: Listing
    points: list[tuple[datetime, Decimal]]
    stats: ListingStats
    last_check: CheckLog | None
    notes: Mapping[datetime, str] = field(default_factory=dict)  # why each price is believed, by its first check


def _evidence_note(point: PricePoint) -> str:
    """One line a person reads on a chart's point or in the check log: how the price was read."""
    return _note_text(
        price=point.price, currency=point.currency, method=point.method, source=point.evidence_source,
        text=point.evidence_text, confirmations=point.confirmations, until=point.confirmed_until,
    )


def _note_text(*, price, currency: str, method: str, source: str, text: str, confirmations: int, until) -> str:
    parts = [f"{price} {currency}".strip(), method or "?"]
    if source:
        parts.append(source)
    if text:
        parts.append(f"read from: {text}")
    if confirmations > 1:
        parts.append(f"confirmed by {confirmations} checks until {timezone.localtime(until).strftime('%Y-%m-%d %H:%M')}")
    return " · ".join(parts)


class _Notes(Mapping):
    """A listing's notes by the time of each point's first check in the period, each written
    when a chart asks for it: a year of points has about a thousand, a chart notes at most
    charts.MAX_NOTED_POINTS."""

    def __init__(self) -> None:
        self._facts: dict[datetime, dict] = {}
        self._texts: dict[datetime, str] = {}

    def add(self, moment: datetime, facts: dict) -> None:
        self._facts[moment] = facts
        self._texts.pop(moment, None)

    def __getitem__(self, moment: datetime) -> str:
        if moment not in self._texts:
            self._texts[moment] = _note_text(**self._facts[moment])
        return self._texts[moment]

    def __contains__(self, moment: object) -> bool:
        return moment in self._facts

    def __iter__(self) -> Iterator[datetime]:
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)


def checks_with_evidence(checks: Sequence[CheckLog]) -> Sequence[CheckLog]:
    """Attach to each check the price point it recorded or confirmed (`seen_point`), with the
    evidence for it, in one query for the page of the check log."""
    wanted = {check.price_seen_id for check in checks if check.price_seen_id}
    points = {point.pk: point for point in PricePoint.objects.filter(pk__in=wanted)} if wanted else {}
    for check in checks:
        point = points.get(check.price_seen_id)
        check.seen_point = point
        check.seen_note = _evidence_note(point) if point is not None else ""
        check.confirmed = point is not None and point.check_log_id != check.pk
    return checks


def product_listings(*, product: Product, days: int | None = None) -> list[ListingDetail]:
    """Each store's listing of a product, with its history over the period and its latest check."""
    listings = _listings_annotated(product.listings.order_by("created_at", "pk"))
    ids = [item.pk for item in listings]
    since = timezone.now() - timedelta(days=days) if days else None
    # One read of the period's points gives the chart's spans and the notes on its points.
    by_listing: dict[int, list[history.Span]] = defaultdict(list)
    notes: dict[int, _Notes] = defaultdict(_Notes)
    for row in history.points_overlapping(PricePoint.objects.filter(listing_id__in=ids), since=since).values_list(
        *history.SPAN_FIELDS, "method", "evidence_source", "evidence_text", "last_confirmed_at", "confirmations"
    ):
        span = history.Span.of(row[: len(history.SPAN_FIELDS)])
        by_listing[span.listing_id].append(span)
        method, source, text, last_confirmed_at, confirmations = row[len(history.SPAN_FIELDS) :]
        notes[span.listing_id].add(
            span.first_check_since(since),
            {"price": span.price, "currency": span.currency, "method": method, "source": source, "text": text,
             "confirmations": confirmations, "until": last_confirmed_at or span.first},
        )
    points = {pk: history.spans_as_points(by_listing[pk], since=since) for pk in ids}
    last_checks: dict[int, CheckLog] = {}
    latest = CheckLog.objects.filter(listing_id__in=ids).order_by("listing_id", "-queued_at", "-pk")
    for check in latest.filter(
        pk__in=Subquery(
            CheckLog.objects.filter(listing=OuterRef("listing"))
            .order_by("-queued_at", "-pk")
            .values("pk")[:1]
        )
    ):
        last_checks[check.listing_id] = check
    return [
        ListingDetail(
            listing=item,
            points=points[item.pk],
            stats=listing_stats(points[item.pk], current=item.last_price),
            last_check=last_checks.get(item.pk),
            notes=notes.get(item.pk) or {},
        )
        for item in listings
    ]


def product_checks(*, product: Product) -> QuerySet[CheckLog]:
    """The check log of all a product's listings, newest first (paginate it)."""
    return (
        CheckLog.objects.filter(listing__product=product)
        .select_related("listing", "listing__store")
        .order_by("-queued_at", "-pk")
    )


def listing_status(*, listing: Listing) -> dict:
    """What the product page polls while a check runs: JSON-ready."""
    check = listing.checks.order_by("-queued_at", "-pk").first()
    checking = check is not None and check.outcome in ACTIVE_OUTCOMES
    return {
        "id": listing.pk,
        "status": listing.status,
        "status_label": listing.get_status_display(),
        "reason": listing.status_reason,
        "paused": listing.paused,
        "checking": checking,
        "last_price": str(listing.last_price) if listing.last_price is not None else None,
        "currency": listing.currency,
        "in_stock": listing.in_stock,
        "checked_at": listing.last_checked_at.isoformat() if listing.last_checked_at else None,
        "check": (
            {
                "id": check.pk,
                "outcome": check.outcome,
                "outcome_label": check.get_outcome_display(),
                "http_status": check.http_status,
                "error": check.error,
                # A row that routine checks were folded into finished with its latest one.
                "finished_at": (check.until or check.finished_at).isoformat() if check.finished_at else None,
            }
            if check
            else None
        ),
    }


def price_history(
    *,
    owner,
    product_id: int | None = None,
    listing_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[PricePoint]:
    """A person's recorded prices, oldest first, for the API and the exports; narrowed to one
    product or listing and to a period [since, until] when given."""
    points = PricePoint.objects.filter(listing__product__owner=owner).select_related(
        "listing", "listing__store", "listing__product"
    )
    if product_id is not None:
        points = points.filter(listing__product_id=product_id)
    if listing_id is not None:
        points = points.filter(listing_id=listing_id)
    if since is not None:
        points = points.filter(checked_at__gte=since)
    if until is not None:
        points = points.filter(checked_at__lte=until)
    return points.order_by("checked_at", "pk")


def listings_for(*, owner, product_id: int | None = None) -> QuerySet[Listing]:
    """A person's listings (of one product when given), in a stable order for paging."""
    listings = Listing.objects.filter(product__owner=owner).select_related("store", "product")
    if product_id is not None:
        listings = listings.filter(product_id=product_id)
    return listings.order_by("product_id", "created_at", "pk")


def import_get(*, owner, import_id: int) -> ImportJob:
    """One of the person's imports; 404 for anyone else's."""
    return get_object_or_404(ImportJob, pk=import_id, owner=owner)

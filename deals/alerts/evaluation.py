"""Judging new prices: a product's alert rules, deal quality, and the events they produce."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from tracker import history
from tracker.models import CheckLog, Listing, PricePoint, Product
from tracker.rates import rates_latest
from tracker.selectors import listing_cheapest

from ..models import AlertEvent, AlertRule, Channel, Notification, NotificationSettings
from . import quality as quality_mod
from . import rules
from .quiet import quiet_until

log = logging.getLogger(__name__)

# Listings whose latest check was doubtful: their prices neither trigger nor count as current.
UNTRUSTED_STATUSES = (Listing.Status.FLAGGED, Listing.Status.BROKEN)
QUALITY_HISTORY_DAYS = 365


def _trusted_listings(product: Product, store_id: int | None) -> list[Listing]:
    qs = product.listings.exclude(status__in=UNTRUSTED_STATUSES).select_related("store")
    if store_id is not None:
        qs = qs.filter(store_id=store_id)
    return list(qs)


def _points_until(listing_ids: list[int], currency: str, at: datetime):
    return PricePoint.objects.filter(listing_id__in=listing_ids, currency=currency, checked_at__lte=at)


def _latest(listing: Listing, currency: str, at: datetime, point: PricePoint) -> PricePoint | None:
    if listing.pk == point.listing_id:
        return point
    return _points_until([listing.pk], currency, at).order_by("-checked_at", "-id").first()


def _previous(point: PricePoint) -> PricePoint | None:
    return (
        PricePoint.objects.filter(listing_id=point.listing_id, currency=point.currency)
        .filter(Q(checked_at__lt=point.checked_at) | Q(checked_at=point.checked_at, id__lt=point.pk))
        .order_by("-checked_at", "-id")
        .first()
    )


@dataclass
class _Scope:
    """The price a rule judges, and the history it judges it against."""

    point: PricePoint  # the price shown in the alert (the best one for all-store rules)
    facts: rules.PriceFacts


def _earlier(ids: list[int], currency: str, point: PricePoint, at: datetime, cache: dict, since=None):
    """(price, checks) of the stores' history up to `at`, leaving out the check judged now."""
    key = ("spans", tuple(ids))
    if key not in cache:
        cache[key] = history.spans_overlapping(
            PricePoint.objects.filter(listing_id__in=ids, currency=currency), until=at
        )
    return history.prices_weighted(cache[key], since=since, until=at, leave_out=(point.pk, at))


def _scope_for(
    rule: AlertRule, point: PricePoint, previous: PricePoint | None, cache: dict, at: datetime
) -> _Scope | None:
    """What `rule` judges for this price, found by the check at `at`. `cache` is shared by
    the rules judged for the same price, so rules over the same stores query the history once."""
    if rule.kind in (rules.DROP_PERCENT, rules.DROP_AMOUNT, rules.RISE_PERCENT):
        facts = rules.PriceFacts(
            price=point.price, previous_price=previous.price if previous else None, in_stock=point.in_stock
        )
        return _Scope(point=point, facts=facts)
    currency = point.currency
    key = ("base", rule.store_id)
    if key not in cache:
        listings = _trusted_listings(point.listing.product, rule.store_id)
        latest = [p for p in (_latest(listing, currency, at, point) for listing in listings) if p is not None]
        buyable = [p for p in latest if p.in_stock is not False]
        best = min(buyable, key=lambda p: (p.price, p.pk != point.pk)) if buyable else point
        if any(p.in_stock for p in latest):
            in_stock: bool | None = True
        elif latest and all(p.in_stock is False for p in latest):
            in_stock = False
        else:
            in_stock = None
        ids = [listing.pk for listing in listings]
        cache[key] = (point.listing_id in ids, ids, best, in_stock)
    in_scope, ids, best, in_stock = cache[key]
    if not in_scope:
        return None
    window: list = []
    if rule.kind == rules.BELOW_TYPICAL:
        window_key = ("window", rule.store_id, rule.window_days)
        if window_key not in cache:
            since = at - timedelta(days=rule.window_days or 30)
            cache[window_key] = history.prices_expanded(_earlier(ids, currency, point, at, cache, since))
        window = cache[window_key]
    earlier_low = None
    if rule.kind == rules.ALL_TIME_LOW:
        low_key = ("low", rule.store_id)
        if low_key not in cache:
            cache[low_key] = min((price for price, _ in _earlier(ids, currency, point, at, cache)), default=None)
        earlier_low = cache[low_key]
    facts = rules.PriceFacts(
        price=best.price,
        previous_price=previous.price if previous else None,
        in_stock=in_stock if rule.kind == rules.BACK_IN_STOCK else best.in_stock,
        earlier_low=earlier_low,
        window_prices=tuple(window),
    )
    return _Scope(point=best, facts=facts)


def product_quality(*, product: Product, at: datetime | None = None) -> quality_mod.Quality:
    """Deal quality of the product's best current trusted price (any store, same currency)."""
    return products_quality(products=[product], at=at)[product.pk]


def products_quality(*, products, at: datetime | None = None) -> dict[int, quality_mod.Quality]:
    """Deal quality of many products in a few queries, whatever their number (for lists), and
    without reading each check of the year.

    A listing's points follow one another (the check path starts a point after the last check
    of the one before), so at most one point crosses each edge of a window: the latest before
    it. The year's points before the 30-day window count only as prices and first checks (an
    index-only scan, `pricepoint_quality`), those inside it as the checks that found each
    price; the two edge points are read as spans. How many checks there were only matters
    below MIN_PRICES: a point stands for at least one check, and a product with fewer checks
    known than that is judged on all its spans of the year. Three queries; one more reads the
    rates when a product's stores price in several currencies.
    """
    at = at or timezone.now()
    product_ids = [product.pk for product in products]
    by_product: dict[int, list[Listing]] = {pk: [] for pk in product_ids}
    for listing in Listing.objects.filter(product_id__in=product_ids).exclude(status__in=UNTRUSTED_STATUSES):
        by_product[listing.product_id].append(listing)
    best: dict[int, Listing] = {}
    rates: dict | None = None
    for pk, listings in by_product.items():
        priced = [listing for listing in listings if listing.last_price is not None]
        buyable = [listing for listing in priced if listing.in_stock is not False] or priced
        # Cheapest through the rates when its stores price in several currencies (never by
        # the raw numbers); judged against the history in its own currency.
        if rates is None and len({listing.currency for listing in buyable}) > 1:
            rates = rates_latest()
        found, _ = listing_cheapest(buyable, rates=rates or {})
        if found is not None:
            best[pk] = found
    product_of = {item.pk: pk for pk in best for item in by_product[pk]}
    by_currency: dict[str, list[int]] = {}
    for pk, listing in best.items():
        by_currency.setdefault(listing.currency, []).extend(item.pk for item in by_product[pk])
    wanted = Q(pk__in=[])
    for currency, ids in by_currency.items():
        wanted |= Q(listing_id__in=ids, currency=currency)
    since, recent = at - timedelta(days=QUALITY_HISTORY_DAYS), at - quality_mod.MEDIAN_WINDOW
    points = PricePoint.objects.filter(wanted)

    points = points.annotate(until=Coalesce("last_confirmed_at", "checked_at"))
    # One round trip, two sums: the year's points before the window as (points, first check,
    # lowest) per listing, read from the index alone; the points inside the window as the
    # checks that found each price (a price that changes often makes many points, but a few
    # distinct prices).
    older_rows = (
        points.filter(checked_at__gte=since, checked_at__lt=recent).values("listing_id")
        .annotate(window=Value(False), low=Min("price"), checks=Count("*"), first_at=Min("checked_at"))
        .order_by().values_list("window", "listing_id", "low", "checks", "first_at")
    )
    fresh_rows = (
        points.filter(checked_at__gte=recent, until__lte=at).values("listing_id", "price")
        .annotate(window=Value(True), checks=Sum("confirmations"), first_at=Min("checked_at"))
        .order_by().values_list("window", "listing_id", "price", "checks", "first_at")
    )
    older: dict[int, tuple[int, datetime, Decimal]] = {}
    fresh: dict[int, list[tuple[Decimal, int, datetime]]] = {}
    for window, listing_id, price, checks, first_at in older_rows.union(fresh_rows, all=True):
        pk = product_of[listing_id]
        if window:
            fresh.setdefault(pk, []).append((price, checks, first_at))
            continue
        known = older.get(pk)
        older[pk] = (
            (checks, first_at, price) if known is None
            else (known[0] + checks, min(known[1], first_at), min(known[2], price))
        )
    # The spans: the latest point before each edge (the one that may cross it), a point still
    # confirmed after `at`, and all the year's points of a product with fewer than MIN_PRICES
    # checks known from the sums, judged on all its spans.
    few = {
        pk for pk in best
        if older.get(pk, (0,))[0] + sum(checks for _, checks, _ in fresh.get(pk, ())) < quality_mod.MIN_PRICES
    }
    # One part per kind of point, each bounded by an index on its own, in a UNION: under an OR
    # PostgreSQL read the whole table to test `pk IN (subquery)`.
    few_ids = {item.pk for pk in few for item in by_product[pk]}
    parts = []
    for currency, ids in by_currency.items():
        of_listings = PricePoint.objects.filter(listing_id__in=ids, currency=currency)
        parts.append(of_listings.filter(checked_at__gte=recent, last_confirmed_at__gt=at))
        parts.append(of_listings.filter(listing_id__in=[pk for pk in ids if pk in few_ids]))
        # By time alone, so the index answers (two points of a listing never start at once)
        before = PricePoint.objects.filter(listing_id=OuterRef("pk"), currency=currency).order_by("-checked_at")
        for edge in (since, recent):
            latest = Subquery(before.filter(checked_at__lt=edge).values("pk")[:1])
            parts.append(PricePoint.objects.filter(pk__in=Listing.objects.filter(pk__in=ids).annotate(edge=latest).values("edge")))
    read = [
        history.points_overlapping(part, since=since, until=at).order_by().values_list(*history.SPAN_FIELDS)
        for part in parts
    ]
    spans: dict[int, list[history.Span]] = {}
    if read:
        for row in read[0].union(*read[1:]).order_by("checked_at", "id"):
            span = history.Span.of(row)
            spans.setdefault(product_of[span.listing_id], []).append(span)

    result = {}
    for pk in product_ids:
        if pk not in best or (pk not in spans and pk not in older and pk not in fresh):
            result[pk] = quality_mod.Quality(quality_mod.NOT_ENOUGH, "Not enough history yet")
            continue
        if pk in few:
            result[pk] = _quality_of_spans(price=best[pk].last_price, at=at, spans=spans.get(pk, []))
        else:
            result[pk] = _quality_of_spans(
                price=best[pk].last_price, at=at, spans=spans.get(pk, []), older=older.get(pk),
                fresh=fresh.get(pk, ()),
            )
    return result


def _quality_of_spans(
    *, price, at: datetime, spans: list[history.Span], older: tuple | None = None, fresh=(),
) -> quality_mod.Quality:
    """Deal quality against the checks the spans stand for, as against one row per check.
    `older` = (points, first check, lowest) of the year's points before the 30-day window,
    `fresh` = (price, checks, first check) of the points inside the window, summed by price;
    `spans` then holds the other points only, and the one across the window's start, which
    `older` counts already (see products_quality)."""
    since, recent = at - timedelta(days=QUALITY_HISTORY_DAYS), at - quality_mod.MEDIAN_WINDOW
    counted = [
        (span, span.checks_between(since, at)) for span in spans
        if older is None or not since <= span.first < recent
    ]
    counted = [(span, count) for span, count in counted if count > 0]
    count = sum(count for _, count in counted)
    firsts = [span.first_check_since(since) for span, _ in counted]
    lows = [span.price for span, _ in counted]
    if older is not None:
        count += older[0]  # a point stands for one check or more: what matters is MIN_PRICES
        firsts.append(older[1])
        lows.append(older[2])
    recent_weighted = history.prices_weighted(spans, since=recent, until=at)
    for fresh_price, checks, first_at in fresh:
        count += checks
        firsts.append(first_at)
        lows.append(fresh_price)
        recent_weighted.append((fresh_price, checks))
    if not count:
        return quality_mod.Quality(quality_mod.NOT_ENOUGH, "Not enough history yet")
    return quality_mod.deal_quality_from_summary(
        price=price, at=at, count=count, first_at=min(firsts), lowest=min(lows),
        recent=(), recent_weighted=recent_weighted,
    )


def _quality_at(point: PricePoint, at: datetime) -> quality_mod.Quality:
    ids = [listing.pk for listing in _trusted_listings(point.listing.product, None)]
    spans = history.spans_overlapping(
        PricePoint.objects.filter(listing_id__in=ids, currency=point.currency),
        since=at - timedelta(days=QUALITY_HISTORY_DAYS), until=at,
    )
    return _quality_of_spans(price=point.price, at=at, spans=spans)


def _claim_rule(rule: AlertRule, point: PricePoint, armed_after: bool, fired: bool, at: datetime) -> bool:
    """Move the rule's state forward to this price, unless a later price was judged already."""
    newer_or_same = Q(evaluated_at__gt=at) | Q(evaluated_at=at, evaluated_point_id__gte=point.pk)
    updates = {"armed": armed_after, "evaluated_at": at, "evaluated_point_id": point.pk}
    if fired:
        updates["last_fired_at"] = timezone.now()
    return bool(
        AlertRule.objects.filter(pk=rule.pk, armed=rule.armed).exclude(newer_or_same).update(**updates)
    )


def notifications_create(*, event: AlertEvent, now: datetime | None = None) -> list[Notification]:
    """One outbox row per enabled channel of the product's owner. Safe to run twice (unique
    per event and channel). Quiet hours set `deliver_after`."""
    now = now or timezone.now()
    owner_id = event.product.owner_id
    prefs = NotificationSettings.objects.filter(user_id=owner_id).first()
    deliver_after = now
    if prefs is not None:
        deliver_after = quiet_until(now=now, start=prefs.quiet_start, end=prefs.quiet_end, tz=prefs.timezone) or now
    created = []
    for channel in Channel.objects.filter(owner_id=owner_id, enabled=True):
        notification, _ = Notification.objects.get_or_create(
            event=event,
            channel=channel,
            defaults={"digest": channel.mode == Channel.Mode.DIGEST, "deliver_after": deliver_after},
        )
        created.append(notification)
    return created


def _rule_judge(
    *, rule: AlertRule, point: PricePoint, previous: PricePoint | None, cache: dict, at: datetime
) -> AlertEvent | None:
    for _attempt in range(3):  # another worker may move the rule between reading and claiming
        scope = _scope_for(rule, point, previous, cache, at)
        if scope is None:
            return None
        decision = rules.rule_evaluate(kind=rule.kind, threshold=rule.threshold, armed=rule.armed, facts=scope.facts)
        with transaction.atomic():
            if _claim_rule(rule, point, decision.armed, decision.fire, at):
                return _event_record(rule=rule, point=point, previous=previous, scope=scope,
                                     decision=decision, cache=cache, at=at) if decision.fire else None
        rule.refresh_from_db()
        if rule.evaluated_at and (rule.evaluated_at, rule.evaluated_point_id or 0) >= (at, point.pk):
            return None  # a newer (or this same) price was judged already
    return None


def _event_record(
    *, rule: AlertRule, point: PricePoint, previous: PricePoint | None, scope: _Scope,
    decision: rules.Decision, cache: dict, at: datetime,
) -> AlertEvent | None:
    shown = scope.point
    old = previous if shown.pk == point.pk else _previous(shown)
    if "q" not in cache:
        cache["q"] = _quality_at(point, at)
    quality = cache["q"]
    event, created = AlertEvent.objects.get_or_create(
        rule=rule,
        price_point=point,
        rule_revision=rule.revision,
        defaults={
            "product": point.listing.product,
            "listing": shown.listing,
            "kind": rule.kind,
            "reason": decision.reason[:300],
            "old_price": old.price if old else None,
            "new_price": shown.price,
            "currency": shown.currency,
            "in_stock": shown.in_stock,
            "quality": quality.level,
            "quality_label": quality.label,
        },
    )
    if not created:
        return None
    notifications_create(event=event)
    return event


def price_point_evaluate(*, price_point_id: int, at: datetime | None = None) -> list[AlertEvent]:
    """Judge one trusted price against its product's enabled rules; record what fired.

    `at` is the check that found it: the point's first check when None, else a later check
    that confirmed the same price (history keeps one point for both; the rules judge every
    check, as they did when each check had its own row).

    Safe to run twice or out of order: a rule's state only moves forward in check time (a
    conditional UPDATE that also requires the armed state it was judged from), and an event
    is unique per (rule, price point). Prices from doubtful checks or listings are ignored.
    """
    point = (
        PricePoint.objects.select_related("listing", "listing__product", "listing__store", "check_log")
        .filter(pk=price_point_id)
        .first()
    )
    if point is None or point.listing.status in UNTRUSTED_STATUSES:
        return []
    if point.check_log is not None and point.check_log.outcome != CheckLog.Outcome.OK:
        return []
    product = point.listing.product
    rule_qs = AlertRule.objects.filter(product=product, enabled=True).filter(
        Q(store__isnull=True) | Q(store_id=point.listing.store_id)
    )
    if at is None or at <= point.checked_at:
        at, previous = point.checked_at, _previous(point)
    else:
        previous = point  # the check before this one found the same price
    events: list[AlertEvent] = []
    cache: dict = {}
    for rule in rule_qs:
        event = _rule_judge(rule=rule, point=point, previous=previous, cache=cache, at=at)
        if event is not None:
            events.append(event)
    if events:
        log.info("alerts fired", extra={"price_point_id": point.pk, "events": [e.pk for e in events]})
    return events


def rule_save(*, rule: AlertRule) -> AlertRule:
    """Create or change a rule. A changed rule starts armed again, as a new revision (it may
    fire again on a price it fired on before the change); the caller judges it against the
    current prices at once (`rule_current_points`, deals.tasks.enqueue_rule_judgement)."""
    if rule.kind in rules.NEEDS_THRESHOLD and rule.threshold is None:
        raise ValueError("this kind of rule needs a number")
    if rule.threshold is not None and rule.threshold < 0:
        raise ValueError("the number cannot be negative")
    rule.armed = True
    rule.evaluated_at = None
    rule.evaluated_point_id = None
    if rule.pk is not None:
        rule.revision += 1
    rule.save()
    return rule


# Per process: product id -> (the product's `updated_at` when it was asked, whether it had
# enabled rules then). Bounded: the oldest answers go first.
_RULED: OrderedDict[int, tuple[datetime, bool]] = OrderedDict()
RULED_KEPT = 50_000


def product_has_rules(*, product_id: int, version: datetime | None = None) -> bool:
    """Whether the product has enabled alert rules: asked on every trusted check, so the answer
    is kept for the product's `version` (its `updated_at`, which the check read with its
    listing). Every rule saved or deleted touches its product's `updated_at`
    (`rule_product_touch`), so a kept answer holds exactly as long as that version does, in
    every process; a check of a changed product asks again."""
    if version is not None and (kept := _RULED.get(product_id)) is not None and kept[0] == version:
        return kept[1]
    has = AlertRule.objects.filter(product_id=product_id, enabled=True).exists()
    if version is not None:
        _RULED[product_id] = (version, has)
        _RULED.move_to_end(product_id)
        while len(_RULED) > RULED_KEPT:
            _RULED.popitem(last=False)
    return has


def rule_product_touch(sender, instance: AlertRule, **kwargs) -> None:
    """Receiver of AlertRule's post_save and post_delete: a rule saved, switched or deleted
    gives its product a new `updated_at`, so kept answers of `product_has_rules` for it
    lapse in every process."""
    Product.objects.filter(pk=instance.product_id).update(updated_at=timezone.now())


def rule_current_points(*, rule: AlertRule) -> list[tuple[int, datetime]]:
    """The current price point of each trusted listing the rule looks at, with the latest check
    that found it: what a just-saved rule is judged against, as the next confirming check would."""
    if not rule.enabled:
        return []
    listings = _trusted_listings(rule.product, rule.store_id)
    points = PricePoint.objects.filter(pk__in=[item.last_point_id for item in listings if item.last_point_id])
    return [(point.pk, point.confirmed_until) for point in points.order_by("checked_at", "pk")]


def deals_feed(*, owner, limit: int = 50):
    """Recent alert events across a person's products, newest first."""
    return (
        AlertEvent.objects.filter(product__owner=owner)
        .select_related("product", "listing", "listing__store", "rule")
        .order_by("-created_at")[:limit]
    )


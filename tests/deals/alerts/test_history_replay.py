"""History stored as changes gives the answers a row per check gave.

One recorded series of checks is replayed two ways: product A keeps one price point per check
(what PriceTracker stored before), product B goes through the check path's writer, which keeps
one point per change and extends it on every unchanged check. Alert rules, deal quality, the
scout's comparable prices, the dashboard's figures and the product page's chart must agree, and
both must agree with the rules and deal quality computed straight from the list of checks.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from statistics import median

import pytest
from django.utils import timezone

from deals.alerts import evaluation as alerts
from deals.alerts import quality, rules
from deals.models import AlertRule
from tracker import checking, history, selectors
from tracker.extraction import Availability, ExtractionResult
from tracker.learning import samples
from tracker.models import CheckLog, Listing, PricePoint, Product, Store

pytestmark = pytest.mark.django_db

STEP = timedelta(hours=3)
# (price, in stock) per check: runs, a drop and its return, an out-of-stock stretch, new lows,
# a one-check blip and a rise.
SERIES = (
    [("100", True)] * 30 + [("90", True)] * 10 + [("100", True)] * 5 + [("100", False)] * 3
    + [("100", True)] * 10 + [("80", True)] * 8 + [("85", True)] + [("80", True)] * 12
    + [("95", True)] * 20 + [("70", True)] * 21
)
RULES = [
    ("target", Decimal("92"), None),
    ("drop_percent", Decimal("5"), None),
    ("drop_amount", Decimal("8"), None),
    ("rise_percent", Decimal("10"), None),
    ("below_typical", Decimal("0"), 3),
    ("below_typical", Decimal("2"), 30),
    ("all_time_low", None, None),
    ("back_in_stock", None, None),
]


def _product(user, name: str) -> Listing:
    store = Store.objects.get_or_create(domain="shop.test")[0]
    product = Product.objects.create(owner=user, name=name)
    for kind, threshold, window in RULES:
        AlertRule.objects.create(product=product, kind=kind, threshold=threshold, window_days=window or 30)
    return Listing.objects.create(product=product, store=store, url=f"http://shop.test/{name}", status="ok")


def _rule_label(rule: AlertRule) -> str:
    return f"{rule.kind}:{_n(rule.threshold)}:{rule.window_days}"


def _n(value) -> str:
    return "" if value is None else f"{Decimal(value).normalize():f}"


def _expected_fires(checks: list[tuple]) -> list[tuple]:
    """The rules judged straight from the list of checks, as the old row-per-check code did."""
    fired = []
    armed = {index: True for index in range(len(RULES))}
    for i, (at, price, in_stock) in enumerate(checks):
        earlier = checks[:i]
        for index, (kind, threshold, window) in enumerate(RULES):
            since = at - timedelta(days=window or 30)
            facts = rules.PriceFacts(
                price=price,
                previous_price=earlier[-1][1] if earlier else None,
                in_stock=in_stock,
                earlier_low=min((p for _, p, _ in earlier), default=None),
                window_prices=tuple(p for t, p, _ in earlier if t >= since),
            )
            decision = rules.rule_evaluate(kind=kind, threshold=threshold, armed=armed[index], facts=facts)
            armed[index] = decision.armed
            if decision.fire:
                fired.append((i, f"{kind}:{_n(threshold)}:{window or 30}"))
    return fired


def test_a_recorded_series_gives_the_same_answers_stored_as_changes_or_as_one_row_per_check(user):
    rows_listing = _product(user, "rows")
    changes_listing = _product(user, "changes")
    start = timezone.now() - STEP * (len(SERIES) + 1)
    checks = [(start + STEP * i, Decimal(p), stock) for i, (p, stock) in enumerate(SERIES)]
    fired = {"rows": [], "changes": []}
    for i, (at, price, in_stock) in enumerate(checks):
        # One row per check, as before.
        point = PricePoint.objects.create(listing=rows_listing, price=price, currency="EUR", in_stock=in_stock,
                                          checked_at=at, method="json-ld")
        Listing.objects.filter(pk=rows_listing.pk).update(last_price=price, currency="EUR", in_stock=in_stock)
        for event in alerts.price_point_evaluate(price_point_id=point.pk):
            fired["rows"].append((i, _rule_label(event.rule), event.new_price, event.old_price, event.quality))
        # The check path's writer: one point per change.
        check = CheckLog.objects.create(listing=changes_listing, outcome="ok", queued_at=at)
        result = ExtractionResult(price=price, currency="EUR", method="json-ld",
                                  availability=Availability.IN_STOCK if in_stock else Availability.OUT_OF_STOCK)
        changes_listing.refresh_from_db()
        kept, changed = checking._price_record(listing=changes_listing, check=check, result=result,
                                               currency="EUR", now=at)
        # What the check path writes to the listing: its state and its history summary.
        Listing.objects.filter(pk=changes_listing.pk).update(
            last_price=price, currency="EUR", in_stock=in_stock, last_point=kept.pk,
            **history.summary_after_check(listing=changes_listing, price=price, changed=changed, now=at),
        )
        for event in alerts.price_point_evaluate(price_point_id=kept.pk, at=None if changed else at):
            fired["changes"].append((i, _rule_label(event.rule), event.new_price, event.old_price, event.quality))
        # Deal quality as the dashboard shows it, at this moment.
        products = [rows_listing.product, changes_listing.product]
        got = alerts.products_quality(products=products, at=at)
        expected = quality.deal_quality(price=price, at=at, history=[(t, p) for t, p, _ in checks[: i + 1]])
        assert got[rows_listing.product_id] == got[changes_listing.product_id] == expected, i

    # Far fewer rows: one per change (a stock change is a change).
    assert PricePoint.objects.filter(listing=changes_listing).count() == 10
    assert PricePoint.objects.filter(listing=rows_listing).count() == len(SERIES)
    # The same alerts, at the same checks, with the same prices and quality.
    assert fired["rows"] == fired["changes"]
    assert sorted((i, label) for i, label, *_ in fired["changes"]) == sorted(_expected_fires(checks))
    assert len(fired["changes"]) >= 8

    # The scout's comparable prices: one per check within its window, either way.
    since = timezone.now() - timedelta(days=10)
    assert sorted(history.prices_since(PricePoint.objects.filter(listing=changes_listing), since=since)) == sorted(
        PricePoint.objects.filter(listing=rows_listing, checked_at__gte=since).values_list("price", flat=True)
    )
    assert sorted(history.prices_since(PricePoint.objects.filter(listing=changes_listing), since=since)) == sorted(
        p for t, p, _ in checks if t >= since
    )
    # The reference a new price is judged against (median of the last five checks).
    for listing in (rows_listing, changes_listing):
        listing.refresh_from_db()
    assert samples.listing_reference_price(listing=changes_listing) == samples.listing_reference_price(
        listing=rows_listing
    ) == Decimal(median(p for _, p, _ in checks[-5:]))

    # The dashboard's figures: kept up to date check by check, or computed from the rows.
    history.listing_summary_rebuild(listing_model=Listing, point_model=PricePoint, listing_ids=[rows_listing.pk])
    by_name = {row.product.name: row for row in selectors.product_summaries(owner=user)}
    a, b = by_name["rows"], by_name["changes"]
    for figure in ("price", "change", "change_pct", "previous_price", "previous_price_at", "lowest_seen", "trend"):
        assert getattr(a, figure) == getattr(b, figure), figure
    assert b.previous_price == Decimal("95") and b.previous_price_at == checks[-22][0]

    # The product page: the chart's steps and the figures over the whole history and a window.
    for days in (None, 5):
        rows_points = selectors.listing_history(listing=rows_listing, days=days)
        change_points = selectors.listing_history(listing=changes_listing, days=days)
        assert len(change_points) < len(rows_points) / 4
        for at, _, _ in checks:
            shown = [p for t, p in rows_points if t <= at]
            assert [p for t, p in change_points if t <= at][-1:] == shown[-1:], at
        assert rows_points[-1] == change_points[-1]  # the line runs to the latest confirmation
        assert selectors.listing_stats(rows_points, current=None) == selectors.listing_stats(
            change_points, current=None
        )


def test_a_price_that_changes_and_comes_back_makes_three_points_and_none_is_merged(user):
    listing = _product(user, "kettle")
    start = timezone.now() - timedelta(days=1)
    kept = []
    for i, price in enumerate(["10", "10", "12", "10", "10"]):
        check = CheckLog.objects.create(listing=listing, outcome="ok")
        result = ExtractionResult(price=Decimal(price), currency="EUR", method="json-ld")
        listing.refresh_from_db()
        point, changed = checking._price_record(
            listing=listing, check=check, result=result, currency="EUR", now=start + timedelta(hours=i)
        )
        Listing.objects.filter(pk=listing.pk).update(last_point=point.pk)
        kept.append(changed)
    assert kept == [True, False, True, True, False]
    assert list(
        PricePoint.objects.filter(listing=listing).order_by("checked_at")
        .values_list("price", "confirmations", "checked_at", "last_confirmed_at")
    ) == [
        (Decimal("10"), 2, start, start + timedelta(hours=1)),
        (Decimal("12"), 1, start + timedelta(hours=2), None),
        (Decimal("10"), 2, start + timedelta(hours=3), start + timedelta(hours=4)),
    ]


def test_deal_quality_over_months_of_changes_matches_the_row_per_check_judgement(user):
    """Points older than the 30-day median's window are summed by the database, the others
    read as spans: together they judge as the list of checks does."""
    listing = _product(user, "months")
    step = timedelta(hours=12)
    values = ["50"] * 40 + ["45"] * 30 + ["48"] * 50 + ["44"] + ["47"] * 60
    start = timezone.now() - step * (len(values) + 1)
    checks = [(start + step * i, Decimal(v)) for i, v in enumerate(values)]
    for i, (at, price) in enumerate(checks):
        _record(listing, at, price)
        if i % 15 == 0 or i == len(checks) - 1:
            got = alerts.products_quality(products=[listing.product], at=at)[listing.product_id]
            assert got == quality.deal_quality(price=price, at=at, history=checks[: i + 1]), i
    assert PricePoint.objects.filter(listing=listing).count() == 5


def test_deal_quality_with_prices_that_come_back_across_the_year_matches_the_row_per_check_judgement(user):
    """The database sums the points inside the year by price: a price found by several points
    (it changed and came back), before and inside the 30-day window, across the year's start,
    counts once per check, as the list of the year's checks counts it."""
    listing = _product(user, "seesaw")
    step = timedelta(days=1)
    values = (["60"] * 3 + ["55"] * 2 + ["60"] * 4 + ["52"]) * 41  # 410 days: older than the year
    values[150:152] = ["40", "40"]  # the year's lowest, long before the 30-day window
    start = timezone.now() - step * (len(values) + 1)
    checks = [(start + step * i, Decimal(v)) for i, v in enumerate(values)]
    for i, (at, price) in enumerate(checks):
        _record(listing, at, price)
        if i in (4, 9, 35, 36, 200, 366, 367, 372, 400, 405) or i == len(checks) - 1:
            got = alerts.products_quality(products=[listing.product], at=at)[listing.product_id]
            assert got == quality.deal_quality(price=price, at=at, history=_year(checks[: i + 1], at)), i
    # Judged at a moment between checks (the year's start falls inside a point's span).
    at = checks[-1][0] + timedelta(hours=7)
    got = alerts.products_quality(products=[listing.product], at=at)[listing.product_id]
    assert got == quality.deal_quality(price=checks[-1][1], at=at, history=_year(checks, at))
    assert PricePoint.objects.filter(listing=listing).count() == 4 * 41 + 1



def test_deal_quality_of_a_price_unchanged_for_more_than_a_year_matches_the_row_per_check_judgement(user):
    """A point across the year's start holds the year's lowest and its first check: read as the
    edge point, not summed with the points before the 30-day window."""
    listing = _product(user, "steady")
    start = timezone.now() - timedelta(days=430)
    checks = [(start + timedelta(days=10 * i), Decimal("40")) for i in range(39)]  # days 0-380
    checks += [(start + timedelta(days=381), Decimal("45")), (start + timedelta(days=390), Decimal("47"))]
    checks += [(start + timedelta(days=420 + i), Decimal("40")) for i in range(6)]
    for i, (at, price) in enumerate(checks):
        _record(listing, at, price)
        if i >= 36:
            got = alerts.products_quality(products=[listing.product], at=at)[listing.product_id]
            assert got == quality.deal_quality(price=price, at=at, history=_year(checks[: i + 1], at)), i
    assert got.label == "Lowest in 365 days"
    assert PricePoint.objects.filter(listing=listing).count() == 4


def _record(listing: Listing, at, price: Decimal) -> None:
    """One check at `at` that read `price`, through the check path's recording step."""
    check = CheckLog.objects.create(listing=listing, outcome="ok", queued_at=at)
    listing.refresh_from_db()
    kept, _ = checking._price_record(
        listing=listing, check=check, result=ExtractionResult(price=price, currency="EUR", method="json-ld"),
        currency="EUR", now=at,
    )
    Listing.objects.filter(pk=listing.pk).update(last_price=price, currency="EUR", last_point=kept.pk)


def _year(checks: list, at) -> list:
    """The checks deal quality looks at: the year up to `at`."""
    return [(when, price) for when, price in checks if when >= at - timedelta(days=alerts.QUALITY_HISTORY_DAYS)]

"""Deal scores across currencies: comparables in other currencies are converted through the
stored reference rates before they are compared, and a currency without a rate is left out
(and the reason says so), never compared by its raw numbers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from deals.models import DealListing, DealMatch, DealSource, Watch
from deals.scout import comparables
from tracker.models import ExchangeRate, Listing, PricePoint, Product, Store

pytestmark = pytest.mark.django_db

# Units per euro, as the ECB's file gives them: $110 and £85 are both €100.
RATES = {"USD": "1.10", "GBP": "0.85"}


def rates(**per_euro: str) -> None:
    for code, rate in per_euro.items():
        ExchangeRate.objects.create(currency=code, per_euro=D(rate), published_on=date(2026, 12, 4))


@pytest.fixture
def watch(user):
    """Headphones seen at €100 and €104, $110 (€100), $99 (€90), £85 (€100) and ¥15,000 (no rate)."""
    watch = Watch.objects.create(owner=user, query="wh-1000xm5")
    source = DealSource.objects.create(name="Deals", kind="feed", url="http://127.0.0.1:9/rss")
    for n, (price, currency) in enumerate(
        [("100", "EUR"), ("104", "EUR"), ("110", "USD"), ("99", "USD"), ("85", "GBP"), ("15000", "JPY")]
    ):
        listing = DealListing.objects.create(
            source=source, external_id=str(n), url=f"http://127.0.0.1:9/{n}", title=f"Sony WH-1000XM5 offer {n}",
            price=D(price), currency=currency,
        )
        DealMatch.objects.create(watch=watch, listing=listing)
    return watch


def _match(watch, currency, price) -> DealMatch:
    return DealMatch.objects.get(watch=watch, listing__currency=currency, listing__price=D(price))


def test_prices_in_other_currencies_are_converted_before_they_are_compared(watch):
    rates(**RATES)
    comparables.watches_score(watches=[watch])
    dollars = _match(watch, "USD", "99")
    # Compared with €100, €104, $110 and £85 (all about €100), not with the one other dollar price.
    assert dollars.comparable_count == 4
    assert dollars.comparable_price == D("110.00")  # €100 in dollars
    assert dollars.score == 10  # $99 is 10 % under $110
    assert "prices in EUR, GBP converted at the reference rates" in dollars.reason
    assert "prices in JPY left out: no exchange rate" in dollars.reason
    pounds = _match(watch, "GBP", "85")
    assert pounds.comparable_price == D("85.00") and pounds.score == 0  # at the usual price


def test_a_currency_without_a_rate_is_left_out_not_compared_by_its_numbers(watch):
    rates(**RATES)
    comparables.watches_score(watches=[watch])
    yen = _match(watch, "JPY", "15000")
    assert yen.comparable_price is None and yen.score == 0  # ¥15,000 is not "99 % above 100"
    assert "no comparable prices yet" in yen.reason
    assert "prices in EUR, GBP, USD left out: no exchange rate" in yen.reason
    euros = _match(watch, "EUR", "100")
    assert euros.comparable_count == 4  # €104, $110, $99, £85: not ¥15,000


def test_without_rates_each_currency_is_compared_only_with_itself_and_the_reason_says_so(watch):
    comparables.watches_score(watches=[watch])
    dollars = _match(watch, "USD", "99")
    assert (dollars.comparable_price, dollars.comparable_count) == (D("110.00"), 1)
    assert "prices in EUR, GBP, JPY left out: no exchange rate" in dollars.reason


def test_the_linked_products_history_in_another_currency_is_converted(watch, user):
    rates(**RATES)
    product = Product.objects.create(owner=user, name="WH-1000XM5")
    tracked = Listing.objects.create(product=product, store=Store.objects.create(domain="s.test"), url="http://s.test/x")
    now = timezone.now()
    for hours in (3, 2, 1):
        PricePoint.objects.create(listing=tracked, price=D("220"), currency="USD", method="json-ld",
                                  checked_at=now - timedelta(hours=hours))
    Watch.objects.filter(pk=watch.pk).update(product=product)
    DealMatch.objects.filter(watch=watch).exclude(listing__currency="EUR").delete()
    comparables.watches_score(watches=[Watch.objects.get(pk=watch.pk)], now=now)
    euros = _match(watch, "EUR", "100")
    # $220 is €200: three recent history points at €200 against one item at €104.
    assert euros.comparable_price == D("200.00"), euros.reason
    assert "prices in USD converted" in euros.reason


def test_the_deal_page_shows_converted_comparables_and_those_left_out_for_want_of_a_rate(client, user, watch):
    rates(**RATES)
    comparables.watches_score(watches=[watch])
    client.force_login(user)
    page = client.get(reverse("scout:deals")).content.decode()
    dollars = page.split("Sony WH-1000XM5 offer 3", 1)[1].split("</tr>", 1)[0]
    used, left_out = dollars.split("Left out:", 1)
    assert "€100.00" in used and "(converted from £85.00)" in used and "(converted from $110.00)" in used
    assert "Sony WH-1000XM5 offer 5" in left_out and "in JPY: no exchange rate to compare it with EUR" in left_out
    assert "prices in JPY left out: no exchange rate" in dollars  # the reason, above the list

"""Prices in several currencies: compared through the reference rates, shown in the person's
currency too, and said to be not comparable when there are no rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tracker.models import ExchangeRate, Listing, Preference

from .listings import add_prices, make_listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_stores(user):
    """The issue's case: $150 and $160 at two stores, €105 at a third."""
    first = make_listing(user, name="Blender", url="https://us-shop.test/b", currency="USD", prices=["150"])
    product = first.product
    second = make_listing(user, url="https://us-other.test/b", currency="USD", prices=["160"], product=product)
    euro = make_listing(user, url="https://eu-shop.test/b", currency="EUR", prices=["105"], product=product)
    return first, second, euro


def rates(**per_euro: str) -> None:
    for code, rate in per_euro.items():
        ExchangeRate.objects.create(currency=code, per_euro=Decimal(rate), published_on=date(2026, 12, 4))


def dashboard(client) -> str:
    return client.get(reverse("tracker:dashboard")).content.decode()


def test_without_rates_the_dashboard_says_the_prices_are_not_comparable(logged_in, three_stores):
    page = dashboard(logged_in)

    assert "cheapest of 3 stores" not in page
    assert "3 stores in different currencies: prices not comparable without exchange rates" in page


def test_a_currency_missing_from_the_rates_is_not_compared_either(logged_in, three_stores):
    rates(GBP="0.84")  # no USD

    assert "prices not comparable" in dashboard(logged_in)


def test_with_rates_the_cheapest_store_in_any_currency_wins(logged_in, three_stores):
    rates(USD="1.08")  # €105 is $113.40, cheaper than $150

    page = dashboard(logged_in)

    assert "cheapest of 3 stores" in page and "prices not comparable" not in page
    assert "eu-shop.test" in page and "€105.00" in page
    assert "$150.00" not in page


def test_the_price_is_shown_in_the_persons_currency_too(logged_in, user, three_stores):
    rates(USD="1.08")
    Preference.objects.create(user=user, display_currency="USD")

    assert "€105.00</strong> <span class=\"converted muted\">(≈ $113.40)</span>" in dashboard(logged_in)


def test_a_price_already_in_the_persons_currency_is_shown_once(logged_in, user):
    make_listing(user, currency="EUR", prices=["20"])
    rates(USD="1.08")
    Preference.objects.create(user=user, display_currency="EUR")

    page = dashboard(logged_in)

    assert "€20.00" in page and "≈" not in page


def test_without_a_rate_for_the_persons_currency_nothing_is_converted(logged_in, user):
    make_listing(user, currency="EUR", prices=["20"])
    Preference.objects.create(user=user, display_currency="USD")

    page = dashboard(logged_in)

    assert "€20.00" in page and "≈" not in page


def test_a_person_picks_their_currency(logged_in, user):
    make_listing(user, currency="EUR", prices=["20"])
    rates(GBP="0.84")

    response = logged_in.post(reverse("tracker:display_currency"), {"display_currency": "GBP"}, follow=True)

    assert Preference.objects.get(user=user).display_currency == "GBP"
    assert "(≈ £16.80)" in response.content.decode()
    logged_in.post(reverse("tracker:display_currency"), {"display_currency": ""})
    assert Preference.objects.get(user=user).display_currency == ""
    assert "≈" not in dashboard(logged_in)


def test_an_unknown_currency_is_refused(logged_in, user):
    logged_in.post(reverse("tracker:display_currency"), {"display_currency": "XXQ"})

    assert not Preference.objects.filter(user=user).exclude(display_currency="").exists()


def test_one_persons_currency_is_not_anothers(client, user, other_user):
    make_listing(other_user, currency="EUR", prices=["20"])
    rates(USD="1.08")
    Preference.objects.create(user=user, display_currency="USD")
    client.force_login(other_user)

    assert "≈" not in dashboard(client)


def test_a_single_store_in_one_currency_is_unchanged(logged_in, user):
    listing = make_listing(user, currency="USD", prices=["150"])
    add_prices(listing, ["140"])
    assert Listing.objects.get(pk=listing.pk).last_price == Decimal("140")

    page = dashboard(logged_in)

    assert "$140.00" in page and "not comparable" not in page


def test_the_product_page_shows_each_stores_price_in_the_persons_currency_too(logged_in, user, three_stores):
    rates(USD="1.08")
    Preference.objects.create(user=user, display_currency="EUR")
    first, _, euro = three_stores

    page = logged_in.get(reverse("tracker:product", args=[euro.product_id])).content.decode()

    assert "$150.00 <span class=\"converted muted\">(≈ €138.89)</span>" in page  # 150 / 1.08
    assert "€105.00 <span class=\"converted" not in page

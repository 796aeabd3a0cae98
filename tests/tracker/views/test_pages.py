"""What the product page and the dashboard show."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import CheckLogFactory, ListingFactory
from tracker.models import CheckLog, Listing, Store

from .listings import add_prices, make_listing

pytestmark = pytest.mark.django_db


# --- What the pages show ---------------------------------------------------------------------


@pytest.mark.parametrize("prices", [[], ["19.99"], ["25", "24", "24", "22.50", "26", "21"]])
def test_product_page_renders_with_zero_one_or_many_prices(logged_in, user, prices):
    listing = make_listing(user, prices=prices)
    page = logged_in.get(reverse("tracker:product", args=[listing.product_id]), {"days": "all"}).content.decode()
    if prices:
        assert page.count('class="chart"') == 2  # the wide and the phone chart
        assert f"€{Decimal(prices[-1]):,.2f}" in page
        assert 'class="series"' in page
    else:
        assert "No prices recorded yet" in page
        assert 'class="chart"' not in page


def test_product_page_shows_stats_and_the_check_log(logged_in, user):
    listing = make_listing(user, prices=["100", "80", "120", "90"])
    CheckLogFactory(
        listing=listing, outcome=CheckLog.Outcome.BLOCKED, http_status=403, duration_ms=55,
        error="the shop answered HTTP 403", method="",
    )
    page = logged_in.get(reverse("tracker:product", args=[listing.product_id])).content.decode()
    assert "€80.00" in page and "€120.00" in page  # lowest and highest
    assert "−10.0%" in page  # 90 against the first 100
    assert "the shop answered HTTP 403" in page and "55 ms" in page and "json-ld" in page


def test_check_log_is_paginated(logged_in, user):
    listing = make_listing(user, prices=[str(n) for n in range(1, 31)])
    url = reverse("tracker:product", args=[listing.product_id])
    first = logged_in.get(url).content.decode()
    assert "Page 1 of 2" in first
    second = logged_in.get(url, {"checks": 2}).content.decode()
    assert "Page 2 of 2" in second


def test_history_period_limits_the_chart(logged_in, user):
    listing = make_listing(user)
    add_prices(listing, ["50"], start=timezone.now() - timedelta(days=60))
    add_prices(listing, ["40"], start=timezone.now() - timedelta(days=1))
    url = reverse("tracker:product", args=[listing.product_id])
    week = logged_in.get(url, {"days": "7"}).content.decode()
    everything = logged_in.get(url, {"days": "all"}).content.decode()
    assert "Highest</dt><dd>€40.00" in week
    assert "Highest</dt><dd>€50.00" in everything


def test_two_stores_get_a_combined_chart(logged_in, user):
    listing = make_listing(user, url="https://shop.test/kettle", prices=["40", "38"])
    other = ListingFactory(product=listing.product, url="https://other.test/k", currency="EUR")
    add_prices(other, ["37", "39"])
    page = logged_in.get(reverse("tracker:product", args=[listing.product_id])).content.decode()
    assert "All stores" in page
    assert 'data-series="other.test"' in page and 'data-series="shop.test"' in page


def test_dashboard_shows_cheapest_price_change_lowest_and_status(logged_in, user):
    listing = make_listing(user, name="Kettle", url="https://shop.test/kettle", prices=["50", "45", "45", "47"])
    other = Listing.objects.create(
        product=listing.product, store=Store.objects.create(domain="other.test"), url="https://other.test/k",
        currency="EUR", status=Listing.Status.BLOCKED, status_reason="the shop answered HTTP 403",
    )
    page = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "€47.00" in page  # current, lowest across stores with a price
    assert "+€2.00 (+4.4%)" in page  # against the previous, different price (45)
    assert "€45.00" in page  # lowest seen
    assert "other.test: the shop answered HTTP 403" in page
    assert 'class="sparkline"' in page
    add_prices(other, ["44"])
    Listing.objects.filter(pk=other.pk).update(status=Listing.Status.OK, status_reason="")
    page = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "cheapest of 2 stores" in page and "€44.00" in page


def test_dashboard_queries_do_not_grow_with_products(logged_in, user, django_assert_max_num_queries):
    for n in range(12):
        make_listing(user, name=f"P{n}", url=f"https://shop.test/p{n}", prices=["10", "9"])
    with django_assert_max_num_queries(12):
        response = logged_in.get(reverse("tracker:dashboard"))
    assert response.content.decode().count('class="product-row') == 12

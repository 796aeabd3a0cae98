"""Checking a listing end to end (tracker.checking.listing_check) against a local shop:
what is recorded, what other apps are told, and how little a routine check costs the database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tracker import checking, services, signals
from tracker.models import CheckLog, ListingPage, PricePoint

from .misbehaving_server import NetGuard, Shop, page, product_html


@pytest.fixture
def shop(monkeypatch, settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    guard = NetGuard().install(monkeypatch)
    server = Shop("127.0.0.1")
    yield server
    server.stop()
    assert guard.forbidden == []


@pytest.fixture
def told():
    """What the check_finished signal carried, message by message."""
    messages: list[dict] = []

    def receiver(sender, **kwargs):
        messages.append(kwargs)

    signals.check_finished.connect(receiver, dispatch_uid="test-services-told")
    yield messages
    signals.check_finished.disconnect(dispatch_uid="test-services-told")


def _check(listing) -> checking.CheckOutcome | None:
    check = checking.check_create(listing=listing)
    return checking.listing_check(check_id=check.pk)


@pytest.mark.django_db(transaction=True)
def test_a_check_records_the_price_names_the_product_and_tells_the_other_apps(shop, user, told):
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))

    outcome = _check(listing)

    assert outcome.check.outcome == CheckLog.Outcome.OK
    point = PricePoint.objects.get(listing=listing)
    assert (point.price, point.currency, point.check_log_id) == (Decimal("49.90"), "EUR", outcome.check.pk)
    listing.refresh_from_db()
    assert (listing.last_price, listing.title, listing.product.name) == (Decimal("49.90"), "Copper kettle", "Copper kettle")
    assert told == [
        {
            "signal": signals.check_finished,
            "check_id": outcome.check.pk,
            "listing_id": listing.pk,
            "product_id": listing.product_id,
            "store": shop.url("/").split("/")[2],  # host and port: each server is a shop of its own
            "method": "json-ld",
            "price_point_id": point.pk,
            "outcome": "ok",
        }
    ]


@pytest.mark.django_db
def test_running_the_same_check_twice_records_one_price(shop, user):
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    check = checking.check_create(listing=listing)

    assert checking.listing_check(check_id=check.pk) is not None
    assert checking.listing_check(check_id=check.pk) is None
    assert PricePoint.objects.filter(listing=listing).count() == 1


@pytest.mark.django_db
def test_an_unchanged_page_is_not_stored_again_and_a_changed_one_replaces_it(shop, user):
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    _check(listing)
    first = ListingPage.objects.get(listing=listing)

    _check(listing)
    again = ListingPage.objects.get(listing=listing)
    assert (again.pk, again.html_hash) == (first.pk, first.html_hash)
    assert again.fetched_at > first.fetched_at

    shop.routes["/kettle"] = page(product_html("Copper kettle", price="44.90"))
    _check(listing)
    changed = ListingPage.objects.get(listing=listing)
    assert changed.pk == first.pk and changed.html_hash != first.html_hash
    assert "44.90" in changed.html
    assert list(PricePoint.objects.filter(listing=listing).order_by("checked_at").values_list("price", flat=True)) == [
        Decimal("49.90"),
        Decimal("49.90"),
        Decimal("44.90"),
    ]


@pytest.mark.django_db
def test_a_price_ten_times_the_history_is_flagged_and_the_same_price_again_is_not(shop, user):
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    assert _check(listing).check.outcome == CheckLog.Outcome.OK
    assert _check(listing).check.outcome == CheckLog.Outcome.OK

    shop.routes["/kettle"] = page(product_html("Copper kettle", price="499.00"))
    outcome = _check(listing)

    assert outcome.check.outcome == CheckLog.Outcome.FLAGGED
    assert "implausible" in outcome.check.error
    assert PricePoint.objects.filter(listing=listing, price=Decimal("499.00")).count() == 0


@pytest.mark.django_db
def test_a_routine_check_of_an_unchanged_page_needs_few_queries(shop, user, django_assert_max_num_queries):
    """The database is the worker's busiest partner: claim, load, pattern, page, record."""
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    _check(listing)
    check = checking.check_create(listing=listing)

    with django_assert_max_num_queries(9):
        outcome = checking.listing_check(check_id=check.pk)

    assert outcome.check.outcome == CheckLog.Outcome.OK

"""Listings with a price history, made with the factories (outside the check path)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from tests.factories import ListingFactory, PricePointFactory
from tracker.models import Listing


def make_listing(owner, *, name="Kettle", url="http://shop.test/kettle", prices=(), currency="EUR", **fields):
    listing = ListingFactory(product__owner=owner, product__name=name, url=url, currency=currency, **fields)
    add_prices(listing, prices)
    return listing


def add_prices(listing, prices, *, start=None, step=timedelta(hours=6)):
    moment = start or timezone.now() - step * len(prices)
    for price in prices:
        PricePointFactory(listing=listing, price=Decimal(price), checked_at=moment)
        moment += step
    if prices:
        Listing.objects.filter(pk=listing.pk).update(
            last_price=Decimal(prices[-1]), status=Listing.Status.OK, last_checked_at=moment
        )
        listing.refresh_from_db()

"""factory_boy factories for setting up models outside the check path (pages, admin, stats).

A test that is about checking goes through tracker.services/tracker.checking instead, so it
exercises what users run; these are for the rows a test only needs to exist.
"""

from __future__ import annotations

from decimal import Decimal

import factory
from django.conf import settings
from django.utils import timezone
from factory.django import DjangoModelFactory

from tracker.models import CheckLog, Listing, PricePoint, Product, Store


class UserFactory(DjangoModelFactory):
    class Meta:
        model = settings.AUTH_USER_MODEL
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    password = factory.django.Password("pw-person-123")


class StoreFactory(DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ("domain",)  # one store per domain, as tracker.services makes them

    domain = factory.Sequence(lambda n: f"shop{n}.test")
    name = factory.SelfAttribute("domain")


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    owner = factory.SubFactory(UserFactory)
    name = "Kettle"


class ListingFactory(DjangoModelFactory):
    """A listing whose store is the one of its URL's host."""

    class Meta:
        model = Listing

    class Params:
        domain = factory.LazyAttribute(lambda o: o.url.split("/")[2])

    product = factory.SubFactory(ProductFactory)
    url = factory.Sequence(lambda n: f"http://shop.test/item-{n}")
    store = factory.SubFactory(StoreFactory, domain=factory.SelfAttribute("..domain"))
    currency = "EUR"


class CheckLogFactory(DjangoModelFactory):
    """A finished, successful check."""

    class Meta:
        model = CheckLog

    listing = factory.SubFactory(ListingFactory)
    outcome = CheckLog.Outcome.OK
    finished_at = factory.LazyFunction(timezone.now)
    http_status = 200
    duration_ms = 12
    method = "json-ld"


class PricePointFactory(DjangoModelFactory):
    """A recorded price with the check that found it."""

    class Meta:
        model = PricePoint

    listing = factory.SubFactory(ListingFactory)
    checked_at = factory.LazyFunction(timezone.now)
    check_log = factory.SubFactory(
        CheckLogFactory,
        listing=factory.SelfAttribute("..listing"),
        finished_at=factory.SelfAttribute("..checked_at"),
    )
    price = Decimal("10.00")
    currency = factory.SelfAttribute("listing.currency")
    method = "json-ld"

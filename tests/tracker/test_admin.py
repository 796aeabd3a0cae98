"""The Django admin shows every tracker model; price history there is read-only."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tracker.models import CheckLog, Listing, PricePoint, Product, Store

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = django_user_model.objects.create_superuser(username="root", password="pw-root-123")
    client.force_login(user)
    return client


@pytest.fixture
def point(django_user_model):
    owner = django_user_model.objects.create_user(username="dana", password="x")
    product = Product.objects.create(owner=owner, name="Lamp")
    listing = Listing.objects.create(
        product=product, store=Store.objects.create(domain="shop.test"), url="http://shop.test/lamp"
    )
    check = CheckLog.objects.create(listing=listing, outcome=CheckLog.Outcome.OK)
    return PricePoint.objects.create(listing=listing, check_log=check, price=Decimal("9.99"), currency="EUR", method="json-ld")


def test_every_tracker_model_is_in_the_admin():
    missing = [m.__name__ for m in apps.get_app_config("tracker").get_models() if not admin.site.is_registered(m)]
    assert missing == []


def test_admin_pages_open(staff, point):
    for obj in (point.listing.product, point.listing, point.listing.store, point.check_log, point):
        meta = obj._meta
        assert staff.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")).status_code == 200
        assert staff.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])).status_code == 200
    listing_page = staff.get(reverse("admin:tracker_listing_change", args=[point.listing.pk])).content.decode()
    assert "9.99 EUR" in listing_page


def test_price_history_cannot_be_edited_in_the_admin(staff, point):
    url = reverse("admin:tracker_pricepoint_change", args=[point.pk])
    staff.post(url, {"price": "1.00", "currency": "EUR", "method": "json-ld", "listing": point.listing_id})
    point.refresh_from_db()
    assert point.price == Decimal("9.99")
    assert staff.get(reverse("admin:tracker_pricepoint_add")).status_code == 403

"""Editing what a person tracks: rename, priority, pause, check now, delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ListingFactory
from tracker.models import CheckLog, Listing, PricePoint, Priority, Product

from .listings import make_listing

pytestmark = pytest.mark.django_db


# --- Editing ---------------------------------------------------------------------------------


def test_rename(logged_in, user):
    listing = make_listing(user)
    logged_in.post(reverse("tracker:product_rename", args=[listing.product_id]), {"name": "  Camping kettle "})
    assert Product.objects.get().name == "Camping kettle"
    response = logged_in.post(reverse("tracker:product_rename", args=[listing.product_id]), {"name": "   "})
    assert response.status_code == 400
    assert Product.objects.get().name == "Camping kettle"


def test_priority_change_brings_the_next_check_closer(logged_in, user):
    listing = make_listing(user, priority=Priority.LOW, next_check_at=timezone.now() + timedelta(hours=20))
    logged_in.post(reverse("tracker:listing_priority", args=[listing.pk]), {"priority": "high"})
    listing.refresh_from_db()
    assert listing.priority == "high"
    assert listing.next_check_at < timezone.now() + timedelta(minutes=20)
    logged_in.post(reverse("tracker:listing_priority", args=[listing.pk]), {"priority": "weekly"})
    listing.refresh_from_db()
    assert listing.priority == "high"


def test_pause_and_resume_a_listing_and_a_whole_product(logged_in, user):
    listing = make_listing(user)
    logged_in.post(reverse("tracker:listing_pause", args=[listing.pk]), {"paused": "1"})
    listing.refresh_from_db()
    assert listing.paused
    page = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "Paused" in page
    logged_in.post(reverse("tracker:listing_pause", args=[listing.pk]), {"paused": "0"})
    listing.refresh_from_db()
    assert not listing.paused
    logged_in.post(reverse("tracker:product_pause", args=[listing.product_id]), {"paused": "1"})
    assert not Listing.objects.filter(paused=False).exists()
    logged_in.post(reverse("tracker:product_pause", args=[listing.product_id]), {"paused": "0"})
    assert not Listing.objects.filter(paused=True).exists()


def test_check_now_queues_one_check_at_a_time(logged_in, user):
    listing = make_listing(user, prices=["10"])
    url = reverse("tracker:listing_check_now", args=[listing.pk])
    logged_in.post(url)
    logged_in.post(url)
    assert listing.checks.filter(outcome=CheckLog.Outcome.QUEUED).count() == 1


def test_delete_asks_first_then_removes_the_product_and_its_history(logged_in, user):
    listing = make_listing(user, prices=["10", "11"])
    url = reverse("tracker:product_delete", args=[listing.product_id])
    confirm = logged_in.get(url)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert Product.objects.count() == 1
    response = logged_in.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("tracker:dashboard")
    assert Product.objects.count() == Listing.objects.count() == PricePoint.objects.count() == 0


def test_removing_one_store_keeps_the_product_until_the_last_goes(logged_in, user):
    first = make_listing(user, url="https://shop.test/kettle", prices=["10"])
    second = ListingFactory(product=first.product, url="https://other.test/k")
    response = logged_in.post(reverse("tracker:listing_delete", args=[second.pk]))
    assert response["Location"] == first.product.get_absolute_url()
    assert Product.objects.count() == 1
    assert "only store" in logged_in.get(reverse("tracker:listing_delete", args=[first.pk])).content.decode()
    response = logged_in.post(reverse("tracker:listing_delete", args=[first.pk]))
    assert response["Location"] == reverse("tracker:dashboard")
    assert Product.objects.count() == 0

"""The status JSON the product page polls while a check runs."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tracker.models import CheckLog, Listing

from .listings import make_listing

pytestmark = pytest.mark.django_db


# --- Status JSON ----------------------------------------------------------------------------


def test_status_json_says_checking_until_the_check_finishes(logged_in, user):
    listing = make_listing(user)
    check = CheckLog.objects.create(listing=listing)
    data = logged_in.get(reverse("tracker:listing_status", args=[listing.pk])).json()
    assert data["checking"] is True and data["check"]["outcome"] == "queued"
    assert data["last_price"] is None

    CheckLog.objects.filter(pk=check.pk).update(
        outcome=CheckLog.Outcome.ERROR, finished_at=timezone.now(), http_status=503, error="the shop answered HTTP 503"
    )
    Listing.objects.filter(pk=listing.pk).update(
        status=Listing.Status.ERROR, status_reason="the shop answered HTTP 503", last_checked_at=timezone.now()
    )
    response = logged_in.get(reverse("tracker:listing_status", args=[listing.pk]))
    data = response.json()
    assert response["Cache-Control"] == "no-store"
    assert data["checking"] is False
    assert (data["status"], data["reason"]) == ("error", "the shop answered HTTP 503")
    assert data["check"]["http_status"] == 503 and data["checked_at"]


def test_status_json_gives_the_price_found(logged_in, user):
    listing = make_listing(user, prices=["12.50"], currency="PLN")
    data = logged_in.get(reverse("tracker:listing_status", args=[listing.pk])).json()
    assert (data["status"], data["last_price"], data["currency"], data["checking"]) == ("ok", "12.50", "PLN", False)

"""Adding a product through the web UI: the first check, its outcome, refused URLs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tracker.models import CheckLog, Listing, PricePoint, Product

from .listings import make_listing

pytestmark = pytest.mark.django_db


# --- Adding a product -----------------------------------------------------------------------


def test_adding_a_url_creates_the_product_queues_its_first_check_and_shows_progress(logged_in, user):
    response = logged_in.post(
        reverse("tracker:dashboard"),
        {"url": "  https://shop.test/kettle  ", "name": "My kettle", "priority": "high"},
    )
    product = Product.objects.get(owner=user)
    listing = product.listings.get()
    assert response.status_code == 302 and response["Location"] == product.get_absolute_url()
    assert (product.name, listing.url, listing.priority) == ("My kettle", "https://shop.test/kettle", "high")
    assert listing.checks.get().outcome == CheckLog.Outcome.QUEUED
    page = logged_in.get(response["Location"]).content.decode()
    assert "Checking shop.test" in page
    assert reverse("tracker:listing_status", args=[listing.pk]) in page
    assert "pricetracker/status.js" in page
    dashboard = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "Checking…" in dashboard  # the dashboard reloads too when the check is done
    assert reverse("tracker:listing_status", args=[listing.pk]) in dashboard and "status.js" in dashboard


def test_the_first_check_runs_right_away_and_its_price_shows(logged_in, user, shop, eager,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(reverse("tracker:dashboard"), {"url": f"{shop}/kettle", "priority": "normal"})
    listing = Listing.objects.get(product__owner=user)
    assert listing.status == Listing.Status.OK
    assert listing.last_price == Decimal("39.90")
    page = logged_in.get(response["Location"]).content.decode()
    assert "€39.90" in page
    assert "Trail Kettle 1L" in page  # the page's title named the product
    assert 'class="series"' in page  # a drawn price line
    assert "status.js" not in page  # nothing left to wait for
    dashboard = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "€39.90" in dashboard


def test_a_failed_first_check_shows_its_reason(logged_in, user, shop, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(reverse("tracker:dashboard"), {"url": f"{shop}/gone", "priority": "normal"})
    listing = Listing.objects.get(product__owner=user)
    assert listing.status == Listing.Status.ERROR
    assert not PricePoint.objects.exists()
    page = logged_in.get(response["Location"]).content.decode()
    assert "HTTP 404" in page
    dashboard = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "HTTP 404" in dashboard and "Fetch error" in dashboard


@pytest.fixture
def demo_shop():
    from demoshop.server import start_in_thread

    shop = start_in_thread(host="127.0.0.1", port=0)
    yield shop
    shop.stop()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "path,status,shown",
    [
        ("/downloads/price-list.pdf", Listing.Status.ERROR, "not a web page"),
        ("/info/shipping", Listing.Status.NO_PRICE, "No price found"),
        ("/product/no-such-thing", Listing.Status.ERROR, "HTTP 404"),
        (None, Listing.Status.ERROR, "could not reach the shop"),
    ],
)
def test_a_page_that_gives_no_price_is_marked_with_the_reason_and_records_nothing(
    logged_in, user, demo_shop, eager, settings, django_capture_on_commit_callbacks, path, status, shown
):
    settings.FETCH_RESPECT_ROBOTS = False
    url = f"{demo_shop.url}{path}" if path else f"http://127.0.0.1:{_closed_port()}/product/x"
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(reverse("tracker:dashboard"), {"url": url, "priority": "normal"})
    assert response.status_code == 302
    listing = Listing.objects.get(product__owner=user)
    assert listing.status == status and listing.last_price is None
    assert not PricePoint.objects.exists()
    page = logged_in.get(response["Location"]).content.decode()
    assert shown in page
    assert 'role="alert"' in page  # the reason box
    assert shown in logged_in.get(reverse("tracker:dashboard")).content.decode()


@pytest.mark.parametrize(
    "url,message",
    [
        ("not-a-url", "This address cannot be tracked"),
        ("ftp://shop.test/kettle", "only http:// and https://"),
        ("http://", "This address cannot be tracked"),
        ("http://user:pw@shop.test/kettle", "user name or password"),
        ("", "This field is required"),
    ],
)
def test_bad_urls_get_a_clear_error_and_create_nothing(logged_in, url, message):
    response = logged_in.post(reverse("tracker:dashboard"), {"url": url, "priority": "normal"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Product.objects.count() == Listing.objects.count() == CheckLog.objects.count() == 0


def test_a_url_already_tracked_is_refused_with_the_product_named(logged_in, user):
    make_listing(user, name="Kettle one", url="https://shop.test/kettle")
    response = logged_in.post(reverse("tracker:dashboard"), {"url": "https://shop.test/kettle", "priority": "normal"})
    assert response.status_code == 400
    assert "already track this page" in response.content.decode()
    assert Product.objects.count() == 1 and CheckLog.objects.count() == 0


def test_another_persons_url_can_be_tracked_too(logged_in, user, other_user):
    make_listing(other_user, url="https://shop.test/kettle")
    response = logged_in.post(reverse("tracker:dashboard"), {"url": "https://shop.test/kettle", "priority": "normal"})
    assert response.status_code == 302
    assert Product.objects.filter(owner=user).count() == 1


def test_another_stores_page_joins_the_same_product(logged_in, user):
    listing = make_listing(user, url="https://shop.test/kettle", prices=["40", "38"])
    product = listing.product
    response = logged_in.post(
        reverse("tracker:product_add_listing", args=[product.pk]),
        {"url": "https://other.test/kettle-1l", "priority": "low"},
    )
    assert response.status_code == 302
    added = product.listings.get(url="https://other.test/kettle-1l")
    assert added.store.domain == "other.test" and added.priority == "low"
    assert added.checks.filter(outcome=CheckLog.Outcome.QUEUED).count() == 1
    bad = logged_in.post(reverse("tracker:product_add_listing", args=[product.pk]), {"url": "ftp://x.test/"})
    assert bad.status_code == 400 and "only http" in bad.content.decode()
    assert product.listings.count() == 2

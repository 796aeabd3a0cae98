"""Products and listings through the API: owner scoping, add by URL, rename, pause, delete."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest

from demoshop.catalogue import price_at
from tests.factories import ListingFactory, ProductFactory
from tracker.models import CheckLog, Listing, PricePoint, Product, Store

pytestmark = pytest.mark.django_db


def _post(client, path, data):
    return client.post(path, data, content_type="application/json")


def _patch(client, path, data):
    return client.patch(path, data, content_type="application/json")


SLUG = "aurora-espresso-machine"


@pytest.fixture
def shop(demo_shop, settings, no_name_resolves):
    """The demo shop, which the add rule may fetch from (loopback is refused unless allowed)."""
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    return demo_shop


def test_adding_a_url_checks_it_at_once_and_answers_with_its_price(api_client, user, shop):
    response = _post(api_client, "/api/v1/products", {"url": shop.product_url(SLUG), "name": "Espresso"})
    assert response.status_code == 201
    body = response.json()
    product = Product.objects.get(pk=body["id"], owner=user)
    expected = price_at(SLUG, CheckLog.objects.get(listing__product=product).finished_at)
    assert body["name"] == "Espresso"
    assert Decimal(body["price"]) == expected and body["currency"] == "USD"
    assert body["listings"][0]["url"] == shop.product_url(SLUG)
    assert PricePoint.objects.filter(listing__product=product).count() == 1


def test_adding_a_url_twice_answers_409_and_keeps_one_product(api_client, user, shop):
    first = _post(api_client, "/api/v1/products", {"url": shop.product_url(SLUG)})
    again = _post(api_client, "/api/v1/products", {"url": shop.product_url(SLUG)})
    assert first.status_code == 201 and again.status_code == 409
    assert str(first.json()["id"]) in again.json()["message"]
    assert Product.objects.filter(owner=user).count() == 1


@pytest.mark.parametrize(
    "path,reason,detail",
    [
        ("/product/no-such-thing", "does not exist (HTTP 404)", "the shop answered HTTP 404"),
        ("/info/shipping", "shows no price we can read", "No price found"),
        ("/downloads/price-list.pdf", "is a file (a PDF", "not a web page"),
    ],
)
def test_a_page_without_a_price_is_refused_with_the_reason_and_nothing_kept(api_client, user, shop, path, reason, detail):
    response = _post(api_client, "/api/v1/products", {"url": f"{shop.url}{path}"})
    assert response.status_code == 400
    body = response.json()
    assert reason in body["message"] and detail not in body["message"]  # plain words first
    assert detail in body["detail"]
    assert body["keepable"] is True
    assert Product.objects.count() == Listing.objects.count() == CheckLog.objects.count() == Store.objects.count() == 0


def test_an_unreachable_shop_is_refused_with_the_reason(api_client, user, shop):
    # robots.txt is read first (settings default) and cannot be either: the reason is still
    # that the shop cannot be reached, not "not checked now".
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    response = _post(api_client, "/api/v1/products", {"url": f"http://127.0.0.1:{closed}/product/x"})
    assert response.status_code == 400
    assert "could not be reached" in response.json()["message"]
    assert not Product.objects.exists()


def test_keep_tracks_a_refused_page_anyway_marked_with_the_reason(api_client, user, shop):
    response = _post(api_client, "/api/v1/products", {"url": f"{shop.url}/product/no-such-thing", "keep": True})
    assert response.status_code == 201
    body = response.json()
    listing = Listing.objects.get(product__owner=user, pk=body["listings"][0]["id"])
    assert body["price"] is None and listing.last_price is None
    assert body["listings"][0]["status"] == Listing.Status.ERROR
    assert "HTTP 404" in body["listings"][0]["status_reason"]
    assert not PricePoint.objects.exists()


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/x", "http://user:pw@127.0.0.1/x", "javascript:alert(1)", "http://127.0.0.1/a b"]
)
def test_an_address_the_add_form_refuses_is_refused_with_a_message(api_client, user, url):
    response = _post(api_client, "/api/v1/products", {"url": url})
    assert response.status_code == 400
    assert "cannot be tracked" in response.json()["message"]
    assert response.json()["keepable"] is False  # keeping would not help
    assert not Product.objects.filter(owner=user).exists()


def test_an_over_long_url_is_refused_not_cut(api_client, user):
    response = _post(api_client, "/api/v1/products", {"url": "http://127.0.0.1/" + "a" * 2100})
    assert response.status_code == 422
    assert response.json()["message"] == "the request is not valid"
    assert not Product.objects.filter(owner=user).exists()


def test_an_unknown_priority_is_a_422_with_the_field_named(api_client):
    response = _post(api_client, "/api/v1/products", {"url": "http://127.0.0.1/a", "priority": "urgent"})
    assert response.status_code == 422
    assert any("priority" in error["loc"] for error in response.json()["errors"])


def test_the_list_shows_only_my_products_paged(api_client, user, other_user):
    mine = [ListingFactory(product__owner=user, product__name=f"Mine {n}").product for n in range(3)]
    ListingFactory(product__owner=other_user, product__name="Theirs")
    first = api_client.get("/api/v1/products?limit=2").json()
    second = api_client.get("/api/v1/products?limit=2&offset=2").json()
    assert first["count"] == second["count"] == 3
    names = [item["name"] for item in first["items"] + second["items"]]
    assert sorted(names) == sorted(product.name for product in mine)


def test_a_product_shows_its_cheapest_current_price(api_client, user):
    product = ProductFactory(owner=user)
    ListingFactory(product=product, last_price=Decimal("12.50"), status=Listing.Status.OK, url="http://a.test/1")
    ListingFactory(product=product, last_price=Decimal("9.99"), status=Listing.Status.OK, url="http://b.test/1")
    body = api_client.get(f"/api/v1/products/{product.pk}").json()
    assert body["price"] == "9.99"
    assert body["currency"] == "EUR"
    assert len(body["listings"]) == 2


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/v1/products/{product}"),
        ("patch", "/api/v1/products/{product}"),
        ("delete", "/api/v1/products/{product}"),
        ("get", "/api/v1/products/{product}/history"),
        ("get", "/api/v1/products/{product}/history.csv"),
        ("get", "/api/v1/products/{product}/state"),
        ("get", "/api/v1/listings/{listing}"),
        ("patch", "/api/v1/listings/{listing}"),
        ("delete", "/api/v1/listings/{listing}"),
    ],
)
def test_another_persons_ids_answer_404_and_change_nothing(api_client, other_user, method, path):
    listing = ListingFactory(product__owner=other_user, product__name="Theirs")
    url = path.format(product=listing.product_id, listing=listing.pk)
    response = getattr(api_client, method)(url, {"name": "Mine now", "paused": True}, content_type="application/json") \
        if method == "patch" else getattr(api_client, method)(url)
    assert response.status_code == 404
    assert response.json() == {"message": "not found"}
    listing.refresh_from_db()
    assert listing.product.name == "Theirs" and not listing.paused


def test_rename_and_pause_a_product(api_client, user):
    listing = ListingFactory(product__owner=user)
    body = _patch(api_client, f"/api/v1/products/{listing.product_id}", {"name": "Better name", "paused": True}).json()
    assert body["name"] == "Better name" and body["paused"] is True
    listing.refresh_from_db()
    assert listing.paused and listing.product.name == "Better name"


def test_an_empty_name_is_refused(api_client, user):
    listing = ListingFactory(product__owner=user, product__name="Keep")
    assert _patch(api_client, f"/api/v1/products/{listing.product_id}", {"name": ""}).status_code == 422
    listing.product.refresh_from_db()
    assert listing.product.name == "Keep"


def test_delete_a_product(api_client, user):
    listing = ListingFactory(product__owner=user)
    assert api_client.delete(f"/api/v1/products/{listing.product_id}").status_code == 204
    assert not Product.objects.filter(pk=listing.product_id).exists()


def test_listings_filtered_by_product_and_changed(api_client, user):
    one = ListingFactory(product__owner=user)
    ListingFactory(product__owner=user)
    page = api_client.get(f"/api/v1/listings?product_id={one.product_id}").json()
    assert [item["id"] for item in page["items"]] == [one.pk] and page["count"] == 1
    body = _patch(api_client, f"/api/v1/listings/{one.pk}", {"priority": "high", "paused": True}).json()
    assert body["priority"] == "high" and body["paused"] is True
    assert api_client.delete(f"/api/v1/listings/{one.pk}").status_code == 204
    assert not Product.objects.filter(pk=one.product_id).exists()  # its last listing went

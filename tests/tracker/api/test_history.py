"""Price history through the API: JSON pages, CSV, from/to, owner scoping."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import ListingFactory, PricePointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(user):
    listing = ListingFactory(product__owner=user, product__name="Kettle")
    start = timezone.now() - timedelta(days=10)
    points = [
        PricePointFactory(listing=listing, checked_at=start + timedelta(days=day), price=Decimal(20 + day))
        for day in range(5)
    ]
    return listing, start, points


def test_history_is_oldest_first_and_paged(api_client, history):
    listing, _, points = history
    first = api_client.get(f"/api/v1/products/{listing.product_id}/history?limit=2").json()
    rest = api_client.get(f"/api/v1/products/{listing.product_id}/history?limit=2&offset=2").json()
    assert first["count"] == 5
    assert [item["price"] for item in first["items"] + rest["items"]] == ["20.00", "21.00", "22.00", "23.00"]


def test_history_from_to_keeps_the_period(api_client, history):
    listing, start, _ = history
    since = (start + timedelta(days=1)).isoformat()
    until = (start + timedelta(days=3)).isoformat()
    response = api_client.get(
        f"/api/v1/products/{listing.product_id}/history", {"from": since, "to": until}
    ).json()
    assert [item["price"] for item in response["items"]] == ["21.00", "22.00", "23.00"]


def test_history_csv_has_a_header_and_a_row_per_price(api_client, history):
    listing, _, _ = history
    response = api_client.get(f"/api/v1/products/{listing.product_id}/history.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["price"] for row in rows] == ["20.00", "21.00", "22.00", "23.00", "24.00"]
    assert rows[0]["product"] == "Kettle" and rows[0]["currency"] == "EUR"


def test_the_account_history_leaves_out_other_people(api_client, history, other_user):
    PricePointFactory(listing=ListingFactory(product__owner=other_user), price=Decimal("99"))
    body = api_client.get("/api/v1/history").json()
    assert body["count"] == 5
    assert "99.00" not in [item["price"] for item in body["items"]]
    text = b"".join(api_client.get("/api/v1/history.csv").streaming_content).decode()
    assert "99.00" not in text and text.count("\n") == 6


def test_a_product_name_that_looks_like_a_formula_is_not_one_in_the_csv(api_client, user):
    listing = ListingFactory(product__owner=user, product__name="=HYPERLINK(1)")
    PricePointFactory(listing=listing)
    text = b"".join(api_client.get(f"/api/v1/products/{listing.product_id}/history.csv").streaming_content).decode()
    assert "'=HYPERLINK(1)" in text

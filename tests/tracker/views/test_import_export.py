"""The import page, its progress JSON, history downloads and the API tokens page."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import ListingFactory, PricePointFactory
from tracker.imports import import_create
from tracker.models import ApiToken, ImportJob, Product

pytestmark = pytest.mark.django_db


def test_the_dashboard_links_to_import_and_export(logged_in):
    assert b'href="/import/"' in logged_in.get("/").content


def test_pasting_urls_runs_an_import_and_shows_each_row(logged_in, user, shop, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post("/import/", {"text": f"{shop}/kettle\nnot a url\n{shop}/gone\n"})
    job = ImportJob.objects.get(owner=user)
    assert response.status_code == 302 and response["Location"] == f"/import/{job.pk}/"
    status = logged_in.get(f"/import/{job.pk}/status.json").json()
    assert status["status"] == "done"
    assert [row["outcome"] for row in status["results"]] == ["added", "refused", "refused"]
    page = logged_in.get(f"/import/{job.pk}/").content.decode()
    assert "1 added" in page and "2 refused" in page and "cannot be tracked" in page
    assert "€39.90" in page and "does not exist (HTTP 404)" in page


def test_uploading_a_csv_file(logged_in, user, shop, eager, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("list.csv", f"\ufeffurl,name\n{shop}/kettle,TV\n".encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        assert logged_in.post("/import/", {"file": upload}).status_code == 302
    assert Product.objects.get(owner=user).name == "TV"


def test_an_empty_import_is_refused_on_the_form(logged_in, user):
    response = logged_in.post("/import/", {"text": "   "})
    assert response.status_code == 400
    assert b"Paste some URLs" in response.content
    assert not ImportJob.objects.exists()


def test_the_import_is_queued_after_commit_not_run_in_the_request(logged_in, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        logged_in.post("/import/", {"text": "http://127.0.0.1:9/a"})
    assert len(callbacks) == 1
    assert ImportJob.objects.get(owner=user).status == ImportJob.Status.QUEUED
    assert not Product.objects.filter(owner=user).exists()


def test_another_persons_import_is_404(logged_in, other_user):
    job = import_create(owner=other_user, text="http://127.0.0.1/a")
    assert logged_in.get(f"/import/{job.pk}/").status_code == 404
    assert logged_in.get(f"/import/{job.pk}/status.json").status_code == 404


@pytest.fixture
def priced(user):
    listing = ListingFactory(product__owner=user, product__name="Kettle")
    PricePointFactory(listing=listing, price=Decimal("19.90"))
    return listing


def test_the_whole_history_as_csv_and_json(logged_in, priced, other_user):
    PricePointFactory(listing=ListingFactory(product__owner=other_user), price=Decimal("77"))
    response = logged_in.get("/export/history.csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["product"], row["price"]) for row in rows] == [("Kettle", "19.90")]
    data = json.loads(logged_in.get("/export/history.json").content)
    assert [(item["product"], item["price"]) for item in data["history"]] == [("Kettle", "19.90")]


def test_one_products_history_and_someone_elses_is_404(logged_in, priced, other_user):
    data = json.loads(logged_in.get(f"/products/{priced.product_id}/history.json").content)
    assert [item["price"] for item in data["history"]] == ["19.90"]
    theirs = ListingFactory(product__owner=other_user)
    assert logged_in.get(f"/products/{theirs.product_id}/history.csv").status_code == 404
    assert b"history.csv" in logged_in.get(f"/products/{priced.product_id}/").content


def test_a_token_made_on_the_page_is_shown_once_and_works(logged_in, client, user):
    page = logged_in.post("/settings/tokens/", {"name": "Home Assistant"}).content.decode()
    token = ApiToken.objects.get(owner=user)
    secret = page.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith(token.prefix) and token.name == "Home Assistant"
    assert secret not in logged_in.get("/settings/tokens/").content.decode()
    from django.test import Client

    assert Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/products").status_code == 200


def test_revoking_on_the_page_and_not_someone_elses(logged_in, user, other_user):
    from tracker.api.tokens import token_create

    mine, _ = token_create(owner=user)
    theirs, _ = token_create(owner=other_user)
    logged_in.post(f"/settings/tokens/{theirs.pk}/revoke/")
    logged_in.post(f"/settings/tokens/{mine.pk}/revoke/")
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [theirs.pk]

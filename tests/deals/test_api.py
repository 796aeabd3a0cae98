"""The deals side of the REST API: rules, notifications, deals, watches, sources, the Home
Assistant state, the account export/import. Another person's ids answer 404."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deals.models import AlertRule, Channel, DealListing, DealMatch, DealSource, Watch
from tests.factories import ListingFactory, PricePointFactory, ProductFactory
from tracker.models import CheckLog, Listing

pytestmark = pytest.mark.django_db


def _json(client, method, path, data=None):
    return getattr(client, method)(path, data, content_type="application/json")


def test_the_state_a_home_assistant_sensor_reads(api_client, user):
    listing = ListingFactory(
        product__owner=user, product__name="Kettle", last_price=Decimal("19.90"), in_stock=True, status=Listing.Status.OK
    )
    PricePointFactory(listing=listing, price=Decimal("19.90"))
    body = api_client.get(f"/api/v1/products/{listing.product_id}/state").json()
    assert body["price"] == "19.90" and body["currency"] == "EUR" and body["in_stock"] is True
    assert body["name"] == "Kettle" and body["store"] == str(listing.store)
    assert body["deal_state"] == "not_enough" and body["deal"] is False  # one price is no history


def test_the_state_of_a_product_without_a_price_yet(api_client, user):
    product = ProductFactory(owner=user)
    ListingFactory(product=product)
    body = api_client.get(f"/api/v1/products/{product.pk}/state").json()
    assert body["price"] is None and body["in_stock"] is None and body["status"] == "pending"


def test_rules_are_made_changed_and_removed(api_client, user):
    product = ProductFactory(owner=user)
    made = _json(api_client, "post", "/api/v1/alert-rules", {"product_id": product.pk, "kind": "target", "threshold": 99.5})
    assert made.status_code == 201
    rule = AlertRule.objects.get(pk=made.json()["id"])
    assert rule.threshold == Decimal("99.50") and rule.product == product
    assert _json(api_client, "patch", f"/api/v1/alert-rules/{rule.pk}", {"enabled": False}).json()["enabled"] is False
    listed = api_client.get(f"/api/v1/alert-rules?product_id={product.pk}").json()
    assert [item["id"] for item in listed["items"]] == [rule.pk]
    assert api_client.delete(f"/api/v1/alert-rules/{rule.pk}").status_code == 204
    assert not AlertRule.objects.exists()


def test_a_target_rule_without_a_number_is_refused(api_client, user):
    product = ProductFactory(owner=user)
    response = _json(api_client, "post", "/api/v1/alert-rules", {"product_id": product.pk, "kind": "target"})
    assert response.status_code == 400 and "number" in response.json()["message"]


def test_nobody_adds_a_rule_to_someone_elses_product(api_client, other_user):
    theirs = ProductFactory(owner=other_user)
    response = _json(api_client, "post", "/api/v1/alert-rules", {"product_id": theirs.pk, "kind": "all_time_low"})
    assert response.status_code == 404
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/v1/alert-rules/{rule}"),
        ("patch", "/api/v1/alert-rules/{rule}"),
        ("delete", "/api/v1/alert-rules/{rule}"),
        ("get", "/api/v1/watches/{watch}"),
        ("delete", "/api/v1/watches/{watch}"),
        ("delete", "/api/v1/deal-sources/{source}"),
        ("get", "/api/v1/deal-sources/{source}"),
    ],
)
def test_another_persons_things_answer_404(api_client, other_user, method, path):
    rule = AlertRule.objects.create(product=ProductFactory(owner=other_user), kind="all_time_low")
    watch = Watch.objects.create(owner=other_user, query="kettle")
    source = DealSource.objects.create(owner=other_user, name="Theirs", url="http://127.0.0.1/feed")
    response = _json(api_client, method, path.format(rule=rule.pk, watch=watch.pk, source=source.pk), {"enabled": False})
    assert response.status_code == 404
    assert AlertRule.objects.get(pk=rule.pk).enabled and Watch.objects.filter(pk=watch.pk).exists()
    assert DealSource.objects.filter(pk=source.pk).exists()


def test_shared_sources_are_seen_but_not_removed(api_client, user, other_user):
    shared = DealSource.objects.create(name="Shared", url="http://127.0.0.1/feed")
    DealSource.objects.create(owner=other_user, name="Theirs", url="http://127.0.0.1/theirs")
    listed = api_client.get("/api/v1/deal-sources").json()
    assert [(item["name"], item["shared"]) for item in listed["items"]] == [("Shared", True)]
    assert api_client.delete(f"/api/v1/deal-sources/{shared.pk}").status_code == 404


def test_watches_and_their_deals(api_client, user, other_user):
    made = _json(api_client, "post", "/api/v1/watches", {"query": "rtx 4070 -laptop", "max_price": 500})
    assert made.status_code == 201
    watch = Watch.objects.get(pk=made.json()["id"], owner=user)
    source = DealSource.objects.create(name="Feed", url="http://127.0.0.1/feed")
    item = DealListing.objects.create(source=source, external_id="1", title="RTX 4070", price=Decimal("450"), currency="EUR")
    DealMatch.objects.create(watch=watch, listing=item, score=30)
    DealMatch.objects.create(watch=Watch.objects.create(owner=other_user, query="rtx"), listing=item, score=40)
    deals = api_client.get("/api/v1/deals").json()
    assert [(deal["title"], deal["score"]) for deal in deals["items"]] == [("RTX 4070", 30)]
    assert api_client.get("/api/v1/deals?min_score=31").json()["count"] == 0


def test_a_watch_of_only_exclusions_is_refused(api_client):
    response = _json(api_client, "post", "/api/v1/watches", {"query": "-laptop"})
    assert response.status_code == 400 and "keyword" in response.json()["message"]


def test_notifications_are_only_mine(api_client, user):
    assert api_client.get("/api/v1/notifications").json() == {"items": [], "count": 0}


def test_the_account_export_leaves_secrets_out_and_imports_back(api_client, user, django_user_model, settings):
    listing = ListingFactory(product__owner=user, product__name="Kettle", url="http://127.0.0.1/kettle")
    AlertRule.objects.create(product=listing.product, kind="target", threshold=Decimal("15"))
    Channel.objects.create(owner=user, name="Phone", url_encrypted="gAAAA-secret", url_masked="ntfy://n…/t…")
    exported = api_client.get("/api/v1/account/export").json()
    text = str(exported)
    assert "gAAAA-secret" not in text and "ntfy" not in text
    assert exported["products"][0]["rules"][0] == {
        "kind": "target", "threshold": "15.00", "window_days": 30, "enabled": True, "store": None
    }

    from django.test import Client

    from tracker.api.tokens import token_create

    newcomer = django_user_model.objects.create_user(username="carol", password="pw-carol-123")
    _, secret = token_create(owner=newcomer)
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    report = _json(client, "post", "/api/v1/account/import", exported).json()
    assert [row["outcome"] for row in report["products"]] == ["added"]
    product = newcomer.products.get()
    assert product.name == "Kettle"
    # Kept as the person had it, without waiting on the shop: its first check is the workers'.
    assert list(CheckLog.objects.filter(listing__product=product).values_list("outcome", flat=True)) == [
        CheckLog.Outcome.QUEUED
    ]
    assert list(product.alert_rules.values_list("kind", "threshold")) == [("target", Decimal("15.00"))]
    channel = Channel.objects.get(owner=newcomer)
    assert channel.name == "Phone" and not channel.enabled and channel.url_encrypted == ""
    again = _json(client, "post", "/api/v1/account/import", exported).json()
    assert [row["outcome"] for row in again["products"]] == ["duplicate"]
    assert [row["outcome"] for row in again["channels"]] == ["duplicate"]
    assert AlertRule.objects.filter(product__owner=newcomer).count() == 1


def test_an_import_that_is_not_an_account_export_is_refused(api_client):
    response = _json(api_client, "post", "/api/v1/account/import", {"format": "something else"})
    assert response.status_code == 400 and "account export" in response.json()["message"]


def test_an_imported_target_price_becomes_a_rule(user, demo_shop, settings, no_name_resolves):
    from tracker.imports import import_create, import_run

    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    url = demo_shop.product_url("aurora-espresso-machine")
    import_run(job_id=import_create(owner=user, text=f"url,target_price\n{url},499.5\n").pk)
    rule = AlertRule.objects.get(product__owner=user)
    assert (rule.kind, rule.threshold) == ("target", Decimal("499.50"))


def test_the_account_page_downloads_and_uploads(client, user, django_user_model):
    from django.core.files.uploadedfile import SimpleUploadedFile

    ListingFactory(product__owner=user, url="http://127.0.0.1/kettle")
    client.force_login(user)
    data = client.get("/deals/account/export.json").content
    other = django_user_model.objects.create_user(username="dave", password="pw-dave-123")
    client.force_login(other)
    page = client.post("/deals/account/", {"file": SimpleUploadedFile("a.json", data)})
    assert page.status_code == 200 and b"added" in page.content
    assert other.products.count() == 1
    bad = client.post("/deals/account/", {"file": SimpleUploadedFile("a.json", b"not json")})
    assert bad.status_code == 400

from decimal import Decimal as D

import pytest
from django.urls import reverse

from deals.models import DealListing, DealMatch, DealSource, Watch

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(user, other_user):
    source = DealSource.objects.create(name="Hot deals", kind="feed", url="http://127.0.0.1:9/rss")
    mine = Watch.objects.create(owner=user, query="rtx 4070")
    theirs = Watch.objects.create(owner=other_user, query="rtx 4070")
    good = DealListing.objects.create(source=source, external_id="1", url="http://127.0.0.1:9/1", title="RTX 4070 Eagle", price=D("499"), currency="USD", condition="new")
    cheap = DealListing.objects.create(source=source, external_id="2", url="http://127.0.0.1:9/2", title="RTX 4070 shroud", price=D("12"), currency="USD")
    used = DealListing.objects.create(source=source, external_id="3", url="http://127.0.0.1:9/3", title="RTX 4070 used", price=D("420"), currency="USD", condition="used")
    DealMatch.objects.create(watch=mine, listing=good, score=18, confidence=0.6, comparable_price=D("610"), comparable_count=5, reason="18 % below the usual price")
    DealMatch.objects.create(watch=mine, listing=cheap, suspicious=True, comparable_price=D("610"), comparable_count=5, reason="suspicious: too cheap")
    DealMatch.objects.create(watch=mine, listing=used, score=31, confidence=0.6, comparable_price=D("610"), comparable_count=5, reason="31 % below")
    DealMatch.objects.create(watch=theirs, listing=good, score=18, reason="bob's match")
    return source


def test_the_deals_page_needs_a_login(client):
    response = client.get(reverse("scout:deals"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_deals_page_lists_my_deals_best_first_with_why_they_scored(client, user, deals):
    client.force_login(user)
    page = client.get(reverse("scout:deals")).content.decode()
    assert page.index("RTX 4070 used") < page.index("RTX 4070 Eagle") < page.index("RTX 4070 shroud")
    assert "18 % below the usual price" in page and "suspicious" in page
    assert "bob&#x27;s match" not in page and "bob's match" not in page


@pytest.mark.parametrize(
    "query, shown, hidden",
    [
        ("condition=used", ["RTX 4070 used"], ["RTX 4070 Eagle"]),
        ("min_score=20", ["RTX 4070 used"], ["RTX 4070 Eagle", "RTX 4070 shroud"]),
        ("max_price=450", ["RTX 4070 used", "RTX 4070 shroud"], ["RTX 4070 Eagle"]),
    ],
)
def test_deals_can_be_filtered(client, user, deals, query, shown, hidden):
    client.force_login(user)
    page = client.get(reverse("scout:deals") + "?" + query).content.decode()
    for title in shown:
        assert title in page
    for title in hidden:
        assert title not in page


def test_a_person_adds_and_removes_a_watch(client, user):
    client.force_login(user)
    response = client.post(reverse("scout:watches"), {"query": "wh-1000xm5 -case", "condition": "any", "alert_min_score": 20})
    assert response.status_code == 302
    watch = Watch.objects.get(owner=user)
    assert watch.query == "wh-1000xm5 -case"
    response = client.post(reverse("scout:watches"), {"query": "-case", "condition": "any", "alert_min_score": 20})
    assert "at least one keyword" in response.content.decode()
    client.post(reverse("scout:watch_delete", args=[watch.pk]))
    assert not Watch.objects.exists()


def test_a_source_with_a_bad_url_or_missing_pattern_is_refused_with_a_reason(client, user):
    client.force_login(user)
    page = client.post(reverse("scout:sources"), {"name": "x", "kind": "feed", "url": "ftp://deals.test/rss", "item_pattern": "{}", "max_pages": 1, "poll_interval_minutes": 30}).content.decode()
    assert "http" in page and not DealSource.objects.exists()
    page = client.post(reverse("scout:sources"), {"name": "x", "kind": "html", "url": "http://127.0.0.1:9/list", "item_pattern": "{}", "max_pages": 1, "poll_interval_minutes": 30}).content.decode()
    assert "selectors" in page and not DealSource.objects.exists()


def test_someone_else_cannot_delete_my_watch(client, user, other_user):
    watch = Watch.objects.create(owner=user, query="rtx")
    client.force_login(other_user)
    assert client.post(reverse("scout:watch_delete", args=[watch.pk])).status_code == 404
    assert Watch.objects.filter(pk=watch.pk).exists()

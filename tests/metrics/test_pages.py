"""The staff dashboard, its JSON and the quality page: with recorded data and with none."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tracker.models import CheckLog, Listing, PricePoint, Product, Store


@pytest.fixture
def staff(client, django_user_model):
    admin = django_user_model.objects.create_user(username="staff", password="pw-staff-123", is_staff=True)
    client.force_login(admin)
    return admin


@pytest.fixture
def recorded(user):
    """A day of checks at two shops: 19 good and 1 error at one, all blocked at the other."""
    now = timezone.now()
    good_shop = Store.objects.create(domain="good.test")
    blocking_shop = Store.objects.create(
        domain="blocking.test",
        extraction_status=Store.ExtractionStatus.BROKEN,
        extraction_status_since=now - timedelta(hours=30),
    )
    product = Product.objects.create(owner=user, name="Kettle")
    good = Listing.objects.create(product=product, store=good_shop, url="http://good.test/k", priority="high")
    blocked = Listing.objects.create(product=product, store=blocking_shop, url="http://blocking.test/k")
    for i in range(20):
        queued = now - timedelta(hours=2, minutes=i)
        check = CheckLog.objects.create(
            listing=good, outcome="ok" if i else "error", queued_at=queued,
            started_at=queued + timedelta(seconds=10 + i), finished_at=queued + timedelta(seconds=12 + i),
            duration_ms=1500 + i, method="json-ld" if i else "",
        )
        if i:
            PricePoint.objects.create(listing=good, check_log=check, price=Decimal("10.00"), currency="EUR",
                                      checked_at=check.finished_at, method="json-ld")
    for i in range(5):
        queued = now - timedelta(hours=1, minutes=i)
        CheckLog.objects.create(listing=blocked, outcome="blocked", queued_at=queued, started_at=queued,
                                finished_at=queued + timedelta(seconds=1), duration_ms=200)
    return {"good": good, "blocked": blocked}


@pytest.mark.django_db
def test_pages_are_for_staff_only(client, user):
    client.force_login(user)
    for url in ("/metrics/dashboard/", "/metrics/api/", "/metrics/quality/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url


@pytest.mark.django_db
def test_dashboard_renders_with_no_data(client, staff):
    response = client.get("/metrics/dashboard/?days=7")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No data in this period" in html
    assert "<svg" in html and "<script" not in html


@pytest.mark.django_db
def test_dashboard_draws_the_recorded_checks_per_outcome_and_store(client, staff, recorded):
    html = client.get("/metrics/dashboard/?days=1").content.decode()
    assert "Checks per hour by outcome" in html
    assert "good.test: 95% of 20" in html  # the store's bar tooltip
    assert "blocking.test" in html
    assert 'class="current" aria-current="page">24 hours' in html


@pytest.mark.django_db
def test_the_api_gives_the_same_figures_as_json(client, staff, recorded):
    data = client.get("/metrics/api/?days=7").json()
    assert data["days"] == 7 and data["bucket"] == "day"
    stores = {row["store"]: row for row in data["stores"]}
    assert stores["good.test"] == {"store": "good.test", "total": 20, "good": 19, "blocked": 0, "rate": 0.95}
    assert stores["blocking.test"]["blocked"] == 5
    assert sum(row["ok"] for row in data["checks"]) == 19
    assert sum(row["blocked"] for row in data["checks"]) == 5
    assert [s["store"] for s in data["broken_stores"]] == ["blocking.test"]
    # The checks were 1 to 2.5 hours ago: shortly after midnight some fall on yesterday.
    days = [day for day in data["check_duration_ms"]["per_day"] if day["n"]]
    assert sum(day["n"] for day in days) == 25 and max(day["p95"] for day in days) >= 1500


@pytest.mark.django_db
def test_quality_page_with_no_data_says_so_and_fails_nothing(client, staff):
    data = client.get("/metrics/quality/?format=json").json()
    statuses = {o["key"]: o["status"] for o in data["objectives"]}
    assert statuses["check_success"] == "NO DATA"
    assert statuses["high_priority_start"] == "NO DATA"
    assert statuses["no_doubtful_prices"] == "PASS"
    assert statuses["broken_stores"] == "PASS"
    assert client.get("/metrics/quality/").status_code == 200


@pytest.mark.django_db
def test_quality_objectives_are_measured_against_the_recorded_data(client, staff, recorded, settings):
    settings.QUALITY_CHECK_SUCCESS_MIN = 0.95
    objectives = {o["key"]: o for o in client.get("/metrics/quality/?format=json").json()["objectives"]}
    # 19 of 20 at the good shop; the blocking shop is left out.
    assert objectives["check_success"]["status"] == "PASS"
    assert objectives["check_success"]["measured"].startswith("95.0% (19 of 20)")
    # High-priority checks started 10..29 s after being queued.
    assert objectives["high_priority_start"]["status"] == "PASS"
    assert objectives["broken_stores"]["status"] == "FAIL"
    assert "blocking.test" in objectives["broken_stores"]["detail"]
    settings.QUALITY_HIGH_START_P95_SECONDS = 20
    objectives = {o["key"]: o for o in client.get("/metrics/quality/?format=json").json()["objectives"]}
    assert objectives["high_priority_start"]["status"] == "FAIL"
    html = client.get("/metrics/quality/").content.decode()
    assert "verdict fail" in html and "verdict pass" in html


@pytest.mark.django_db
def test_a_price_recorded_from_a_flagged_page_fails_its_objective(client, staff, recorded):
    check = CheckLog.objects.filter(listing=recorded["good"], outcome="ok").first()
    CheckLog.objects.filter(id=check.id).update(outcome="flagged")
    objectives = {o["key"]: o for o in client.get("/metrics/quality/?format=json").json()["objectives"]}
    assert objectives["no_doubtful_prices"]["status"] == "FAIL"
    assert objectives["no_doubtful_prices"]["measured"] == "1 price(s)"


@pytest.mark.django_db
def test_staff_see_a_metrics_link_and_others_do_not(client, user, django_user_model):
    client.force_login(user)
    assert 'href="/metrics/dashboard/"' not in client.get("/").content.decode()
    admin = django_user_model.objects.create_user(username="boss", password="pw-boss-123", is_staff=True)
    client.force_login(admin)
    assert 'href="/metrics/dashboard/"' in client.get("/").content.decode()


@pytest.mark.django_db
def test_each_chart_is_drawn_again_for_phones_with_labels_that_fit(client, staff, recorded):
    """Shrunk from 760 to a phone's 360 pixels, the labels were 4 px high: a phone gets its own drawing."""
    import re

    html = client.get("/metrics/dashboard/?days=30").content.decode()
    wide = re.findall(r'<div class="wide"><svg[^>]*viewBox="0 0 760 ', html)
    narrow = re.findall(r'<div class="narrow"><svg[^>]*viewBox="0 0 380 ', html)
    assert len(wide) == len(narrow) >= 3
    phone_charts = html.split('<div class="narrow">')[1:]
    first_chart = phone_charts[0].split("</svg>", 1)[0]
    day_labels = re.findall(r'font-size="10" text-anchor="middle">(\d\d-\d\d)<', first_chart)
    assert 2 <= len(day_labels) <= 5  # 30 days, a few labels, none on top of another

"""/metrics: who may scrape it, and what it shows (the web process's own counts)."""

from __future__ import annotations

import base64

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tracker.models import Store


def samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def total(found: dict, name: str, **labels) -> float:
    return sum(
        value
        for (sample, sample_labels), value in found.items()
        if sample == name and all(dict(sample_labels).get(k) == v for k, v in labels.items())
    )


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = "s3cret-token"
    settings.METRICS_BASIC_AUTH = "prom:pw-prom"
    return settings.METRICS_TOKEN


@pytest.mark.django_db
def test_scrape_without_credentials_is_401(client, token):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


@pytest.mark.django_db
def test_scrape_with_a_wrong_token_is_403(client, token):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 403
    wrong = base64.b64encode(b"prom:wrong").decode()
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {wrong}").status_code == 403


@pytest.mark.django_db
def test_scrape_with_basic_auth_answers_text_format(client, token):
    good = base64.b64encode(b"prom:pw-prom").decode()
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {good}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_a_regular_user_session_is_not_enough(client, token, user):
    client.force_login(user)
    assert client.get("/metrics").status_code == 401


@pytest.mark.django_db
def test_web_requests_are_counted_with_view_method_and_status(client, token):
    before = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode())
    for _ in range(3):
        client.get("/health")
    client.get("/no-such-page-h8/")
    found = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode())
    name = "pricetracker_http_requests_total"
    assert total(found, name, view="metrics:health", method="GET", status="200") - total(
        before, name, view="metrics:health", method="GET", status="200"
    ) == 3
    assert total(found, name, view="unmatched", status="404") - total(before, name, view="unmatched", status="404") == 1
    latency = "pricetracker_http_request_duration_seconds_count"
    assert total(found, latency, view="metrics:health") - total(before, latency, view="metrics:health") == 3


@pytest.mark.django_db
def test_state_gauges_come_from_the_database_at_scrape_time(client, token):
    Store.objects.create(domain="open.test", circuit_state="open", extraction_status="broken")
    Store.objects.create(domain="fine.test")
    found = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode())
    assert found[("pricetracker_circuit_breakers", (("state", "open"),))] == 1
    assert found[("pricetracker_circuit_breakers", (("state", "closed"),))] == 1
    assert found[("pricetracker_stores_by_extraction_status", (("status", "broken"),))] == 1
    assert ("pricetracker_queue_depth", (("queue", "checks_high"),)) in found


@pytest.mark.django_db
def test_the_response_carries_the_request_id_it_was_given_or_a_new_one(client):
    given = client.get("/health", HTTP_X_REQUEST_ID="abc-123")
    assert given["X-Request-ID"] == "abc-123"
    made = client.get("/health", HTTP_X_REQUEST_ID="bad id with spaces\n")
    assert made["X-Request-ID"] != "bad id with spaces\n" and len(made["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_llm_calls_tokens_and_deals_are_read_from_the_database(client, token):
    from django.apps import apps

    # get_model, not a skip: a renamed model must fail this test, not silence it.
    LLMCall = apps.get_model("tracker", "LLMCall")
    LLMCall.objects.create(purpose="pattern", ok=True, prompt_tokens=5000, completion_tokens=250)
    LLMCall.objects.create(purpose="pattern", ok=True, prompt_tokens=4000, completion_tokens=200)
    LLMCall.objects.create(purpose="pattern", ok=False, error="timeout")
    found = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode())
    assert total(found, "pricetracker_llm_calls", purpose="pattern", outcome="ok") == 2
    assert total(found, "pricetracker_llm_calls", purpose="pattern", outcome="failed") == 1
    assert total(found, "pricetracker_llm_tokens", purpose="pattern", kind="prompt") == 9000
    assert total(found, "pricetracker_llm_tokens", purpose="pattern", kind="completion") == 450
    apps.get_model("deals", "AlertEvent")  # the gauge below reads it: a rename must fail here
    assert found[("pricetracker_alert_events_found", ())] == 0

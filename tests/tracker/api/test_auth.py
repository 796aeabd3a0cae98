"""Tokens: made hashed, sent as Bearer, revoked; errors answered as JSON; rate limited per token."""

from __future__ import annotations

import hashlib

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from tracker.api.tokens import token_create, token_revoke
from tracker.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_request_without_a_token_answers_401_json(client):
    response = client.get("/api/v1/products")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "token" in response.json()["message"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_wrong_token_answers_401(user):
    token_create(owner=user)
    client = Client(headers={"Authorization": "Bearer pt_not-the-right-one"})
    assert client.get("/api/v1/products").status_code == 401


def test_a_session_login_is_not_an_api_token(client, user):
    client.force_login(user)
    assert client.get("/api/v1/products").status_code == 401


def test_only_the_hash_of_a_token_is_stored(user):
    token, secret = token_create(owner=user, name="ha")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {stored.key_hash, stored.prefix, stored.name}


def test_a_revoked_token_stops_working(user):
    token, secret = token_create(owner=user)
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get("/api/v1/products").status_code == 200
    assert token_revoke(owner=user, token_id=token.pk)
    assert client.get("/api/v1/products").status_code == 401


def test_nobody_revokes_another_persons_token(user, other_user):
    token, secret = token_create(owner=user)
    assert not token_revoke(owner=other_user, token_id=token.pk)
    assert Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/products").status_code == 200


def test_a_deactivated_persons_token_stops_working(user):
    _, secret = token_create(owner=user)
    user.is_active = False
    user.save()
    assert Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/products").status_code == 401


def test_the_command_prints_a_working_token(user, capsys):
    call_command("api_token", "alice")
    secret = capsys.readouterr().out.strip()
    assert Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/products").status_code == 200


def test_the_command_refuses_an_unknown_user():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no user named"):
        call_command("api_token", "nobody")


def test_requests_over_the_limit_answer_429_json_per_token(settings, user, other_user):
    cache.clear()
    settings.API_RATELIMIT = "3/60"
    _, mine = token_create(owner=user)
    _, theirs = token_create(owner=other_user)
    client = Client(headers={"Authorization": f"Bearer {mine}"})
    assert [client.get("/api/v1/products").status_code for _ in range(3)] == [200, 200, 200]
    over = client.get("/api/v1/products")
    assert over.status_code == 429
    assert over.json()["message"].startswith("too many requests")
    assert int(over["Retry-After"]) >= 1
    # another token has its own count
    assert Client(headers={"Authorization": f"Bearer {theirs}"}).get("/api/v1/products").status_code == 200
    cache.clear()


def test_the_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/products/{product_id}/state" in document["paths"]
    assert document["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    assert client.get("/api/v1/docs").status_code == 200


def test_a_cache_outage_lets_requests_through_instead_of_failing_them(api_client, monkeypatch):
    from tracker.api.auth import TokenRateThrottle

    class DownCache:
        def get(self, *args, **kwargs):
            raise ConnectionError("redis is down")

        set = get

    monkeypatch.setattr(TokenRateThrottle, "cache", DownCache())
    assert api_client.get("/api/v1/products").status_code == 200

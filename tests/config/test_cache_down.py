"""With the shared cache (Redis) down, signing in still works: limits fail open with a warning."""

from __future__ import annotations

import logging
import socket

import pytest


@pytest.fixture
def dead_redis_cache(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/1",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.RATELIMIT_ENABLED = True


@pytest.mark.django_db
def test_a_login_post_with_the_cache_down_is_answered_not_500(client, dead_redis_cache, django_user_model, caplog):
    django_user_model.objects.create_user("alice", password="pw-alice-123")
    with caplog.at_level(logging.WARNING):
        wrong = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        right = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"})
    assert wrong.status_code == 200  # the form again, with its error
    assert right.status_code == 302
    assert any("rate limit" in record.getMessage() and "cache" in record.getMessage() for record in caplog.records)

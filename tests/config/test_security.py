"""Security baseline: deploy checks, CSP, login throttling and rate limits."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from config import security

ROOT = Path(__file__).resolve().parents[2]


def _check_deploy(tmp_path, **overrides: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "SECURE_HTTPS": "true",
        "ALLOWED_HOSTS": "prices.example.test",
        "DATA_DIR": str(tmp_path / "data"),
        "METRICS_ENABLED": "false",
        **overrides,
    }
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    done = _check_deploy(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout + done.stderr


def test_check_deploy_complains_without_https(tmp_path):
    done = _check_deploy(tmp_path, SECURE_HTTPS="false")
    assert done.returncode != 0
    assert "security.W004" in done.stdout + done.stderr  # no HSTS


@pytest.mark.django_db
def test_pages_carry_a_self_only_content_security_policy(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


@pytest.fixture
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_login_posts_beyond_the_limit_get_429(client, settings, fresh_limits):
    settings.RATELIMIT_LOGIN = "3/60"
    codes = [client.post("/accounts/login/", {"username": "x", "password": "y"}).status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3] == 429


@pytest.mark.django_db
def test_json_endpoints_beyond_the_limit_get_429_per_user(client, settings, fresh_limits, django_user_model):
    settings.RATELIMIT_JSON = "3/60"
    staff = django_user_model.objects.create_user(username="s", password="pw-s-12345", is_staff=True)
    client.force_login(staff)
    # The first answer shows the view speaks JSON; from then on it is counted.
    assert client.get("/metrics/api/?days=1").status_code == 200
    cache.clear()
    codes = [client.get("/metrics/api/?days=1").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert client.get("/health").status_code == 200  # probes are never limited


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_username_and_address(client, settings, fresh_limits, user):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    locked = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"})
    assert locked.status_code == 429
    # The test client's own login (no request) is not throttled, so tests are never locked out.
    assert client.login(username="alice", password="pw-alice-123")


def test_a_bad_rate_setting_is_a_clear_error():
    with pytest.raises(ImproperlyConfigured):
        security.rate_parse("ten per minute")

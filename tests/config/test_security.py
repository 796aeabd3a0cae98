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
def test_every_view_beyond_the_limit_gets_429_per_user(client, settings, fresh_limits, django_user_model):
    """Issue 14: every view is limited from its first request (nothing learned at run time)."""
    settings.RATELIMIT_VIEWS = "3/60"
    staff = django_user_model.objects.create_user(username="s", password="pw-s-12345", is_staff=True)
    client.force_login(staff)
    codes = [client.get("/metrics/api/?days=1").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert client.get("/health").status_code == 200  # probes are never limited


@pytest.mark.django_db
def test_html_pages_are_limited_too(client, settings, fresh_limits, user):
    settings.RATELIMIT_VIEWS = "2/60"
    client.force_login(user)
    codes = [client.get("/").status_code for _ in range(3)]
    assert codes[:2] == [200, 200] and codes[2] == 429


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


# --- Client addresses from trusted proxies only (issue 14) --------------------------------------


def _login(client, username, password, *, forwarded=None, peer="127.0.0.1"):
    extra = {"REMOTE_ADDR": peer}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra).status_code


@pytest.fixture
def behind_nginx(settings):
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    settings.AXES_FAILURE_LIMIT = 3


@pytest.mark.django_db
def test_behind_a_proxy_six_clients_locked_out_do_not_lock_out_a_seventh(client, behind_nginx, fresh_limits, user):
    for i in range(1, 7):
        for _ in range(3):
            _login(client, "alice", "wrong", forwarded=f"203.0.113.{i}")
        assert _login(client, "alice", "pw-alice-123", forwarded=f"203.0.113.{i}") == 429
    assert _login(client, "alice", "pw-alice-123", forwarded="203.0.113.7") == 302


@pytest.mark.django_db
def test_one_address_trying_29_usernames_is_stopped(client, behind_nginx, fresh_limits, settings, user):
    settings.LOGIN_USERNAMES_PER_ADDRESS = "10/3600"
    codes = [_login(client, f"guess{i}", "wrong", forwarded="198.51.100.4") for i in range(29)]
    assert codes[:10] == [200] * 10
    assert set(codes[10:]) == {429}
    # The right password for a real account does not get through from that address either...
    assert _login(client, "alice", "pw-alice-123", forwarded="198.51.100.4") == 429
    # ...while another client behind the same proxy signs in.
    assert _login(client, "alice", "pw-alice-123", forwarded="198.51.100.5") == 302


@pytest.mark.django_db
def test_failed_logins_overall_are_limited(client, behind_nginx, fresh_limits, settings, user):
    settings.LOGIN_FAILURES_OVERALL = "5/3600"
    codes = [_login(client, "nobody", "wrong", forwarded=f"192.0.2.{i}") for i in range(1, 8)]
    assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}


@pytest.mark.django_db
def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(client, settings, fresh_limits, user):
    settings.TRUSTED_PROXIES = []
    settings.AXES_FAILURE_LIMIT = 3
    for i in range(3):
        _login(client, "alice", "wrong", forwarded=f"203.0.113.{i}", peer="198.51.100.20")
    # A new forged address each time does not make a new client: still locked.
    assert _login(client, "alice", "pw-alice-123", forwarded="203.0.113.99", peer="198.51.100.20") == 429


def test_the_client_address_is_read_from_the_right_past_trusted_proxies(settings, rf):
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32")]
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.8, 10.1.2.3")
    assert security.client_ip(request) == "203.0.113.8"  # the forged first hop is not believed
    assert security.client_ip(rf.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")) == "203.0.113.9"
    assert security.client_ip(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="junk")) == "127.0.0.1"


def test_trusted_proxies_is_a_typed_setting(monkeypatch):
    from config.settings import env_networks

    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1, 172.16.0.0/12,::1")
    assert [str(n) for n in env_networks("TRUSTED_PROXIES")] == ["127.0.0.1/32", "172.16.0.0/12", "::1/128"]
    monkeypatch.setenv("TRUSTED_PROXIES", "nginx")
    with pytest.raises(ImproperlyConfigured):
        env_networks("TRUSTED_PROXIES")


class _DownCache:
    def __getattr__(self, name):
        def down(*args, **kwargs):
            raise ConnectionError("Redis is down")

        return down


@pytest.mark.django_db
def test_the_limits_fail_open_with_a_warning_when_the_cache_is_down(client, monkeypatch, caplog, user):
    import django_ratelimit.core

    monkeypatch.setattr(django_ratelimit.core, "caches", {"default": _DownCache()})
    monkeypatch.setattr(security, "cache", _DownCache())
    with caplog.at_level("WARNING", logger="config.security"):
        assert client.get("/accounts/login/").status_code == 200
        assert _login(client, "alice", "wrong") == 200
        assert _login(client, "alice", "pw-alice-123") == 302
    assert "cache is unavailable" in caplog.text

"""gunicorn with deploy/gunicorn.conf.py: requests answered by several workers add up in /metrics."""

from __future__ import annotations

import glob
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from .conftest import free_port, process_env, wait_for
from .test_prometheus import samples, total


def _get(url: str, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_requests_over_three_gunicorn_workers_are_summed_in_one_scrape(spawn, private_broker, tmp_path):
    port = free_port()
    base = tmp_path / "prometheus"
    env = process_env(
        private_broker, PROMETHEUS_MULTIPROC_BASE=str(base), GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="3", METRICS_TOKEN="gunicorn-token", PLAIN_STATIC="true",
    )
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    web = spawn([gunicorn, "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"], env=env, name="gunicorn")
    url = f"http://127.0.0.1:{port}"
    try:
        # Ready when another view answers: a slow first /health that the client gave up on could
        # otherwise be counted after the first scrape and spoil the sum.
        token = {"Authorization": "Bearer gunicorn-token"}
        wait_for(lambda: _get(f"{url}/health/detailed", token)[0] in (200, 503), timeout=45, interval=0.3,
                 what="gunicorn")
    except AssertionError:
        raise AssertionError(web.log()[-3000:]) from None
    before = samples(_get(f"{url}/metrics", {"Authorization": "Bearer gunicorn-token"})[1])
    sent = 240
    # Many at once, so more than one sync worker has to answer: /health answers in about a
    # millisecond, and with 60 requests from 6 threads one worker sometimes took them all.
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(lambda _: _get(f"{url}/health")[0], range(sent)))
    assert codes == [200] * sent
    status, text = _get(f"{url}/metrics", {"Authorization": "Bearer gunicorn-token"})
    assert status == 200
    found = samples(text)
    name = "pricetracker_http_requests_total"
    labels = {"view": "metrics:health", "method": "GET", "status": "200"}
    assert total(found, name, **labels) - total(before, name, **labels) == sent
    per_worker = []
    for path in glob.glob(str(base / "*" / "counter_*.db")):
        counted = sum(
            s.value for family in MultiProcessCollector.merge([path]) for s in family.samples
            if s.name == name and s.labels.get("view") == "metrics:health"
        )
        if counted:
            per_worker.append(counted)
    assert len(per_worker) >= 2, f"one gunicorn worker answered everything: {per_worker}"
    assert sum(per_worker) == total(found, name, view="metrics:health")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _status_and_location(url: str, headers: dict) -> tuple[int, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")
    except OSError:
        return 0, ""


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("proxy_is_trusted", [True, False])
def test_only_the_trusted_proxy_may_say_a_request_came_over_https(spawn, private_broker, proxy_is_trusted):
    """With SECURE_HTTPS, a plain-HTTP request is redirected to https. X-Forwarded-Proto lifts
    that only from an address in FORWARDED_ALLOW_IPS: a client that reaches gunicorn directly
    and sends the header itself is still redirected (Django used to believe it from anyone)."""
    port = free_port()
    env = process_env(
        private_broker, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", PLAIN_STATIC="true",
        SECURE_HTTPS="true", FORWARDED_ALLOW_IPS="127.0.0.1" if proxy_is_trusted else "10.9.8.7",
    )
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    web = spawn([gunicorn, "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"], env=env, name="gunicorn")
    url = f"http://127.0.0.1:{port}/accounts/login/"
    try:
        wait_for(lambda: _status_and_location(url, {})[0] in (200, 301), timeout=45, interval=0.3, what="gunicorn")
    except AssertionError:
        raise AssertionError(web.log()[-3000:]) from None
    assert _status_and_location(url, {}) == (301, f"https://127.0.0.1:{port}/accounts/login/")
    status, location = _status_and_location(url, {"X-Forwarded-Proto": "https"})
    if proxy_is_trusted:
        assert status == 200
    else:
        assert (status, location) == (301, f"https://127.0.0.1:{port}/accounts/login/")

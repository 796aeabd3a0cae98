"""Flower as the entrypoint runs it: its /metrics asks for the same basic auth as its pages."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request

import pytest

from .conftest import celery_args, free_port, process_env, redis_server, wait_for


def _get(url: str, auth: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


@pytest.mark.integration
@pytest.mark.redis
def test_flowers_metrics_need_its_basic_auth(spawn, private_broker):
    port = free_port()
    with redis_server() as redis:
        env = process_env(private_broker, CELERY_BROKER_URL=redis["url"], FLOWER_UNAUTHENTICATED_API="true")
        flower = spawn(
            celery_args("flower", "--conf=deploy/flowerconfig.py", "--address=127.0.0.1", f"--port={port}",
                        "--basic-auth=ops:flower-pass"),
            env=env, name="flower",
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _get(f"{base}/healthcheck")[0] == 200, timeout=60, interval=0.3, what="flower")
        except AssertionError:
            raise AssertionError(flower.log()[-3000:]) from None
        status, body = _get(f"{base}/metrics")
        assert status == 401
        assert "flower_" not in body
        assert _get(f"{base}/metrics", "ops:wrong")[0] == 401
        status, body = _get(f"{base}/metrics", "ops:flower-pass")
        assert status == 200
        assert "flower_events" in body or "flower_worker" in body or "# HELP" in body
        # The API stays closed although the variable asks to open it: basic auth is set.
        assert _get(f"{base}/api/workers")[0] == 401

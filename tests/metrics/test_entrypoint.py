"""docker/entrypoint.sh run as the container runs it (no Docker engine needed): the web role."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, free_port, process_env, wait_for


def _get(url: str, request_id: str) -> int:
    request = urllib.request.Request(url, headers={"X-Request-ID": request_id})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _access_lines(log: str) -> list[dict]:
    lines = []
    for raw in log.splitlines():
        if raw.startswith("{"):
            record = json.loads(raw)
            if record.get("logger") == "pricetracker.access":
                lines.append(record)
    return lines


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_web_role_runs_gunicorn_with_the_deploy_config(spawn, private_broker):
    port = free_port()
    env = process_env(
        private_broker, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", WEB_MAX_REQUESTS="3",
        WEB_MAX_REQUESTS_JITTER="1", PLAIN_STATIC="true", STARTUP_WAIT_SECONDS="30",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env.pop("FORWARDED_ALLOW_IPS", None)
    web = spawn(["sh", str(ROOT / "docker" / "entrypoint.sh"), "web", "--log-level", "debug"], env=env, name="web")
    url = f"http://127.0.0.1:{port}/health"
    try:
        wait_for(lambda: _get(url, "warm-up") == 200, timeout=90, interval=0.3, what="the web role")
    except AssertionError:
        raise AssertionError(web.log()[-3000:]) from None
    sent = [f"rid-{n}" for n in range(12)]
    assert [_get(url, rid) for rid in sent] == [200] * len(sent)
    wait_for(lambda: len(_access_lines(web.log())) >= len(sent) + 1, timeout=10, what="access lines")
    log = web.log()

    # The settings gunicorn reports are the ones of deploy/gunicorn.conf.py.
    assert "deploy/gunicorn.conf.py" in log
    assert "forwarded_allow_ips: ['127.0.0.1', '::1']" in log
    assert "max_requests: 3" in log
    # One access line per request, with its request id; gunicorn's own access log is off.
    lines = [line for line in _access_lines(log) if line["request_id"] in sent]
    assert sorted(line["request_id"] for line in lines) == sorted(sent)
    assert {line["status"] for line in lines} == {200}
    assert all(line["path"] == "/health" for line in lines)
    assert '"GET /health HTTP/1.1"' not in log
    # Workers are recycled: after at most four requests each, another process answers.
    assert len({line["pid"] for line in lines}) >= 3

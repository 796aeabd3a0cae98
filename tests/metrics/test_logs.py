"""Log lines: JSON with context, and one request id from the web request into the worker."""

from __future__ import annotations

import json
import logging

import pytest

from metrics.context import request_id_var, user_id_var
from metrics.logs import ContextFilter, JsonFormatter
from tracker import services
from tracker.models import CheckLog

from .conftest import process_env, product_html, product_page_server, wait_for, worker_args


def _format(record_kwargs: dict, **extra) -> dict:
    record = logging.LogRecord(name="tracker.services", level=logging.WARNING, pathname=__file__, lineno=1,
                               msg="price %s", args=("10.00",), exc_info=None)
    for key, value in extra.items():
        setattr(record, key, value)
    ContextFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_a_json_line_has_timestamp_level_logger_message_and_the_request_context():
    token_r = request_id_var.set("req-1")
    token_u = user_id_var.set("42")
    try:
        line = _format({}, listing_id=7)
    finally:
        request_id_var.reset(token_r)
        user_id_var.reset(token_u)
    assert line["message"] == "price 10.00"
    assert line["level"] == "WARNING" and line["logger"] == "tracker.services"
    assert line["timestamp"].endswith("+00:00") and "T" in line["timestamp"]
    assert line["request_id"] == "req-1" and line["user_id"] == "42"
    assert line["task_id"] == "" and line["listing_id"] == 7


def test_the_settings_send_json_to_stdout_and_can_add_a_rotating_file(tmp_path):
    import subprocess
    import sys

    from .conftest import ROOT

    log_file = tmp_path / "pt.log"
    code = (
        "import django, logging; from config.bootstrap import bootstrap; bootstrap(); django.setup(); "
        "logging.getLogger('tracker').warning('hello from %s', 'settings')"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "LOG_FORMAT": "json", "LOG_FILE": str(log_file),
           "PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    stdout_line = json.loads(done.stdout.strip().splitlines()[-1])
    assert stdout_line["message"] == "hello from settings"
    assert json.loads(log_file.read_text().strip().splitlines()[-1])["message"] == "hello from settings"
    env["LOG_FORMAT"] = "plain"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert "WARNING tracker [] hello from settings" in done.stdout


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_request_id_of_a_check_now_click_appears_in_the_worker_lines_of_that_check(
    client, user, spawn, private_broker
):
    env = process_env(private_broker)
    worker = spawn(worker_args(name="h8logs", queues=["checks_high", "default"], pool="solo"), env=env, name="w")
    pages = {"/kettle": product_html(name="Kettle", price="24.99")}
    with product_page_server(pages) as base:
        listing = services.listing_add(owner=user, url=f"{base}/kettle", name="Kettle")
        client.force_login(user)
        response = client.post(f"/listings/{listing.pk}/check/", HTTP_X_REQUEST_ID="click-7f3a9")
        assert response.status_code == 302
        assert response["X-Request-ID"] == "click-7f3a9"
        check = CheckLog.objects.get(listing=listing)
        try:
            wait_for(lambda: CheckLog.objects.filter(id=check.id, finished_at__isnull=False).exists(),
                     timeout=45, interval=0.3, what="the check to finish")
        except AssertionError:
            raise AssertionError(worker.log()[-3000:]) from None

    def task_lines() -> list[dict]:
        lines = []
        for raw in worker.log().splitlines():
            if raw.startswith("{"):
                try:
                    lines.append(json.loads(raw))
                except ValueError:
                    continue
        return [line for line in lines if line.get("task_name") == "tracker.tasks.check_listing"]

    lines = wait_for(task_lines, timeout=10, what="the worker's log lines of the task")
    assert {line["request_id"] for line in lines} == {"click-7f3a9"}
    assert all(line["task_id"] for line in lines)
    assert any(line["message"] == "check finished" and line.get("check_id") == check.id for line in lines)
    assert {line["user_id"] for line in lines} == {str(user.pk)}

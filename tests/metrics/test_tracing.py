"""OpenTelemetry: nothing loaded without an endpoint; spans sent over OTLP/HTTP with one."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading

from .conftest import ROOT

_SCRIPT = """
import sys, django
from config.bootstrap import bootstrap
bootstrap()
django.setup()
from django.test import Client
status = Client().get("/health", HTTP_HOST="localhost").status_code
loaded = sorted({m.split(".")[0] + "." + m.split(".")[1] for m in sys.modules if m.startswith("opentelemetry.")})
if "opentelemetry" in sys.modules:
    from opentelemetry import trace
    trace.get_tracer_provider().force_flush()
print(status, "otel" if "opentelemetry" in sys.modules else "no-otel", ",".join(loaded))
"""


def _run(tmp_path, **env: str) -> str:
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", "DATA_DIR": str(tmp_path),
            "LOG_LEVEL": "WARNING", "METRICS_ENABLED": "false"}
    done = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, env={**base, **env}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_without_an_endpoint_opentelemetry_is_not_even_imported(tmp_path):
    assert _run(tmp_path).split()[:2] == ["200", "no-otel"]


def test_with_an_endpoint_request_spans_reach_the_collector(tmp_path):
    received: list[tuple[str, int]] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            self.rfile.read(length)
            received.append((self.path, length))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        line = _run(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    assert line.startswith("200 otel")
    assert received and received[0][0] == "/v1/traces" and received[0][1] > 0

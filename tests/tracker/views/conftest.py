"""Fixtures of the web UI tests: a logged-in client, a local shop, eager Celery."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from config.celery import app as celery_app

PRODUCT_PAGE = """<!doctype html><html><head><title>Trail Kettle</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product",
"name": "Trail Kettle 1L", "offers": {"@type": "Offer", "price": "39.90", "priceCurrency": "EUR",
"availability": "https://schema.org/InStock"}}</script></head><body><h1>Trail Kettle 1L</h1></body></html>"""


class _ShopHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/kettle":
            body, status = PRODUCT_PAGE.encode(), 200
        else:
            body, status = b"<html><body>Not here</body></html>", 404
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Before the `user` fixture: the default PBKDF2 costs about a second per user here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_name_resolves(no_name_resolves):
    """The add form checks a page before keeping it: no test here may send a DNS query."""


@pytest.fixture
def shop():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ShopHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def eager(settings):
    # Read before the settings change: Celery's conf may load them lazily, and keeping True
    # here would leave every later test of the run eager.
    previous = celery_app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client

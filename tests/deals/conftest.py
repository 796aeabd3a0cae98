"""Fixtures for alert and notification tests: products with prices, and local receivers
(an HTTP server for json:// channels, an SMTP server for e-mail), all on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tracker.models import CheckLog, Listing, PricePoint, Product, Store

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _allow_loopback_channels(settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    settings.SITE_URL = "http://pricetracker.test"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def eager_celery():
    """Tasks run in-process when sent (after commit), as a worker would run them."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = before


@pytest.fixture
def product(user) -> Product:
    return Product.objects.create(owner=user, name="Espresso machine")


def listing_for(product: Product, domain: str = "shop-a.test") -> Listing:
    store, _ = Store.objects.get_or_create(domain=domain, defaults={"name": domain})
    return Listing.objects.create(product=product, store=store, url=f"https://{domain}/espresso", status=Listing.Status.OK)


@pytest.fixture
def listing(product) -> Listing:
    return listing_for(product)


def record_price(
    listing: Listing, price, at: datetime, *, in_stock: bool | None = True, currency: str = "EUR"
) -> PricePoint:
    """What a successful check leaves behind: an ok check and its trusted price point."""
    check = CheckLog.objects.create(listing=listing, outcome=CheckLog.Outcome.OK, finished_at=at)
    point = PricePoint.objects.create(
        listing=listing, check_log=check, price=Decimal(str(price)), currency=currency,
        in_stock=in_stock, checked_at=at, method="test",
    )
    Listing.objects.filter(pk=listing.pk).update(
        last_price=point.price, currency=currency, in_stock=in_stock, last_checked_at=at, status=Listing.Status.OK,
        last_point=point,
    )
    return point


@dataclass
class Received:
    requests: list[dict] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.requests


@pytest.fixture
def http_receiver():
    """A webhook receiver: records each POST (path, headers, JSON body); answers from `statuses`."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = received.statuses.pop(0) if received.statuses else 200
            received.requests.append(
                {"path": self.path, "headers": dict(self.headers), "json": json.loads(body or b"{}"), "status": status}
            )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    received.port = server.server_address[1]
    yield received
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on 127.0.0.1; Django's mail settings point at it."""
    from aiosmtpd.controller import Controller

    messages: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            messages.append(
                {
                    "to": list(envelope.rcpt_tos),
                    "message": message_from_bytes(envelope.original_content or envelope.content, policy=policy.default),
                }
            )
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    controller.messages = messages
    yield controller
    controller.stop()


def later(hours: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, days=days)


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client

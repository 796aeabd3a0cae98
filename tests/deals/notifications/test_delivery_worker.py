"""A real worker process killed while it sends a notification: the redelivered task sends nothing."""

from __future__ import annotations

import json
import os
import signal
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.utils import timezone

from deals import tasks
from deals.alerts.evaluation import price_point_evaluate
from deals.models import AlertRule, Notification
from deals.notifications import delivery
from deals.notifications.channels import channel_add
from tests.integration.workers import wait_until, worker_start

from ..conftest import later, listing_for, record_price

pytestmark = [pytest.mark.integration, pytest.mark.redis]

needs_redis = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis"), reason="worker-loss redelivery is tested on Redis"
)
KEY = "deals-worker-test-key"


@needs_redis
def test_killing_the_worker_mid_send_still_delivers_exactly_once(
    transactional_db, django_db_setup, private_broker, tmp_path, user, settings
):
    settings.CHANNEL_ENCRYPTION_KEY = KEY
    worker = worker_start(
        broker_env=private_broker,
        log_dir=tmp_path,
        queues=("default",),
        concurrency=1,
        env={"CHANNEL_ENCRYPTION_KEY": KEY, "FETCH_ALLOW_HOSTS": "127.0.0.1", "CELERY_VISIBILITY_TIMEOUT": "3"},
    )
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            if len(received) == 1:
                for child in worker.children():  # the message is in; the pool process dies now
                    os.kill(child, signal.SIGKILL)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        channel_add(owner=user, name="hook", url=f"json://127.0.0.1:{server.server_address[1]}/in")
        product = user.products.create(name="Grinder")
        listing = listing_for(product)
        AlertRule.objects.create(product=product, kind="target", threshold=Decimal("50"))
        price_point_evaluate(price_point_id=record_price(listing, 45, later()).pk)
        notification = Notification.objects.get()

        tasks.deliver_notification.delay(notification.pk)
        wait_until(lambda: received, timeout=30, what="the notification at the receiver")
        # The lost task comes back (reject on worker lost / visibility timeout) and finds the row taken.
        worker.wait_for_log("'skipped'", timeout=30)
        assert "signal 9 (SIGKILL)" in worker.log()
        notification.refresh_from_db()
        assert notification.status == Notification.Status.SENDING and notification.send_started_at
        delivery.notifications_recover_stale(now=timezone.now() + timedelta(hours=1))
        notification.refresh_from_db()
        assert notification.status == Notification.Status.FAILED
        assert len(received) == 1 and "Grinder" in received[0]["title"]
    finally:
        server.shutdown()
        server.server_close()
        worker.stop()

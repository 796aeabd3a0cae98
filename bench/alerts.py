"""Alert figures: rule evaluation per new price, chart drawing, delivery to a local webhook.

    .venv/bin/python bench/alerts.py [--history 2000] [--rules 7] [--sends 50]

Runs on a throw-away SQLite database in a temporary DATA_DIR (or DATABASE_URL if set) and a
webhook receiver on 127.0.0.1. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, default=2000, help="earlier prices per listing")
    parser.add_argument("--rules", type=int, default=7, help="rules on the product (one per kind, repeated)")
    parser.add_argument("--sends", type=int, default=50, help="notifications delivered to the webhook")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="pt-bench-alerts-")
    os.environ.setdefault("DATA_DIR", tmp)
    os.environ["FETCH_ALLOW_HOSTS"] = "127.0.0.1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    from config.bootstrap import bootstrap
    bootstrap()
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from deals.alerts.evaluation import price_point_evaluate, product_quality
    from deals.models import AlertRule, Notification
    from deals.notifications import delivery
    from deals.notifications.channels import channel_add
    from deals.notifications.chart import price_chart_png
    from tracker.models import CheckLog, Listing, PricePoint, Product, Store

    owner = get_user_model().objects.create_user(username=f"bench-{time.time_ns()}", password="x")
    product = Product.objects.create(owner=owner, name="Bench product")
    listings = []
    for domain in ("a.bench.test", "b.bench.test"):
        store, _ = Store.objects.get_or_create(domain=domain)
        listings.append(Listing.objects.create(product=product, store=store, url=f"https://{domain}/p", status="ok"))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for listing in listings:
        PricePoint.objects.bulk_create(
            PricePoint(listing=listing, price=Decimal(100 + (i % 17)), currency="EUR", in_stock=True,
                       checked_at=start + timedelta(hours=3 * i), method="bench")
            for i in range(args.history)
        )
    kinds = [k for k, _ in AlertRule.Kind.choices]
    for i in range(args.rules):
        kind = kinds[i % len(kinds)]
        AlertRule.objects.create(product=product, kind=kind, threshold=Decimal("90") if kind == "target" else Decimal("5"))

    timings = []
    now = start + timedelta(hours=3 * args.history)
    for i in range(40):
        listing = listings[i % 2]
        check = CheckLog.objects.create(listing=listing, outcome="ok")
        point = PricePoint.objects.create(listing=listing, check_log=check, price=Decimal(85 + (i % 30)),
                                          currency="EUR", in_stock=True, checked_at=now + timedelta(hours=i), method="bench")
        began = time.perf_counter()
        if os.environ.get("BENCH_PROFILE") and i == 20:
            import cProfile

            cProfile.runctx("price_point_evaluate(price_point_id=point.pk)", globals(), locals(), sort="cumtime")
        else:
            price_point_evaluate(price_point_id=point.pk)
        timings.append((time.perf_counter() - began) * 1000)
    print(f"rule evaluation: {args.rules} rules, {args.history} earlier prices x 2 stores: "
          f"median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms per new price")

    began = time.perf_counter()
    for _ in range(20):
        product_quality(product=product)
    print(f"deal quality of one product: {(time.perf_counter() - began) / 20 * 1000:.1f} ms")

    began = time.perf_counter()
    for _ in range(20):
        png = price_chart_png([100 + (i % 13) for i in range(60)])
    print(f"price chart PNG (320x120, 60 prices): {(time.perf_counter() - began) / 20 * 1000:.1f} ms, {len(png)} bytes")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    channel = channel_add(owner=owner, name="bench", url=f"json://127.0.0.1:{server.server_address[1]}/in")
    events = list(product.alert_events.all()[: args.sends])
    rows = [Notification.objects.get_or_create(event=e, channel=channel)[0] for e in events]
    began = time.perf_counter()
    sent = sum(delivery.notification_deliver(notification_id=row.pk) == "sent" for row in rows)
    elapsed = time.perf_counter() - began
    server.shutdown()
    if sent:
        print(f"delivery to a local json:// webhook (with chart): {sent} sent, {elapsed / sent * 1000:.1f} ms each")


if __name__ == "__main__":
    main()

"""Print how long the web UI takes to render with a lot of history (no timed asserts).

    DATA_DIR=/tmp/pt-bench-ui .venv/bin/python bench/bench_ui.py [products] [points-per-listing]

Builds a throwaway SQLite database under DATA_DIR (default: a temp folder): N products, one
listing each, a price point every 15 minutes (high priority for a month = 2,880 points), then
times the dashboard, a product page (90 days and all) and the chart functions alone.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="pt-bench-ui-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PLAIN_STATIC", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

from config.bootstrap import bootstrap  # noqa: E402

bootstrap()
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402


def main() -> None:
    products = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    per_listing = int(sys.argv[2]) if len(sys.argv) > 2 else 2880
    settings.ALLOWED_HOSTS = ["*"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)

    from django.contrib.auth import get_user_model

    from tracker import charts
    from tracker.models import CheckLog, Listing, PricePoint, Product, Store

    owner, _ = get_user_model().objects.get_or_create(username="bench")
    Product.objects.filter(owner=owner).delete()
    store, _ = Store.objects.get_or_create(domain="bench.test")
    started = time.perf_counter()
    now = timezone.now()
    for n in range(products):
        product = Product.objects.create(owner=owner, name=f"Bench product {n}")
        listing = Listing.objects.create(product=product, store=store, url=f"https://bench.test/p{n}", currency="EUR")
        checks, points = [], []
        price = Decimal("100.00")
        for i in range(per_listing):
            moment = now - timedelta(minutes=15 * (per_listing - i))
            if i % 37 == 0:
                price = Decimal(100 + (i * 7 + n) % 23)
            checks.append(CheckLog(listing=listing, outcome="ok", queued_at=moment, finished_at=moment, http_status=200))
            points.append((moment, price))
        CheckLog.objects.bulk_create(checks, batch_size=2000)
        PricePoint.objects.bulk_create(
            [PricePoint(listing=listing, price=p, currency="EUR", checked_at=t, method="json-ld") for t, p in points],
            batch_size=2000,
        )
        Listing.objects.filter(pk=listing.pk).update(last_price=price, status="ok", last_checked_at=now)
    print(f"built {products} products x {per_listing} points in {time.perf_counter() - started:.1f} s")

    client = Client()
    client.force_login(owner)

    def timed(label: str, url: str, repeat: int = 3) -> None:
        best = float("inf")
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                response = client.get(url)
                best = min(best, time.perf_counter() - t0)
            assert response.status_code == 200, response.status_code
        print(f"{label:<34} {best * 1000:8.1f} ms  {len(queries):3d} queries  {len(response.content) / 1024:7.1f} KB")

    from tracker import selectors

    ids = list(selectors.products_for(owner=owner).values_list("pk", flat=True)[:50])
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        selectors.product_summaries(owner=owner, product_ids=ids)
        best = min(best, time.perf_counter() - t0)
    print(f"{'product_summaries (selector only)':<34} {best * 1000:8.1f} ms")

    first = Product.objects.filter(owner=owner).order_by("pk").first()
    timed(f"dashboard ({min(products, 50)} rows)", "/")
    timed("product page, 90 days", f"/products/{first.pk}/?days=90")
    timed("product page, all", f"/products/{first.pk}/?days=all")

    series = [charts.Series("s", list(PricePoint.objects.filter(listing__product=first).values_list("checked_at", "price")))]
    t0 = time.perf_counter()
    for _ in range(20):
        svg = charts.history_chart_svg(series, currency="EUR")
    print(f"history_chart_svg, {per_listing} points  {(time.perf_counter() - t0) / 20 * 1000:8.2f} ms  {len(svg) / 1024:.1f} KB")
    t0 = time.perf_counter()
    for _ in range(200):
        charts.sparkline_svg(series[0].points)
    print(f"sparkline_svg, {per_listing} points      {(time.perf_counter() - t0) / 200 * 1000:8.2f} ms")


if __name__ == "__main__":
    main()

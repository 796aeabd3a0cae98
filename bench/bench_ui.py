"""Print how long the web UI takes to render with a lot of history (no timed asserts).

    DATA_DIR=/tmp/pt-bench-ui .venv/bin/python bench/bench_ui.py [products] [checks-per-listing]
    .venv/bin/python bench/bench_ui.py 10000 2880      # 10,000 products
    .venv/bin/python bench/bench_ui.py 100 35040       # a year of 15-minute checks

Builds a throwaway SQLite database under DATA_DIR (default: a temp folder): N products, one
listing each, checked every 15 minutes (high priority for a month = 2,880 checks), stored as
the check path stores them: one price point per change (the price changes every 37 checks)
spanning the checks that confirmed it, each listing's summary, and the check log the
housekeeping keeps (LOG_RETENTION_CONFIRMATIONS_DAYS of routine checks). Then times the
dashboard, a product page (90 days and all) and the chart functions alone. Targets (issue
15): dashboard <= 150 ms at 1,000 x 2,880 and <= 300 ms at 10,000; a year's product page
<= 100 ms.
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

    from tracker import charts, history
    from tracker.models import CheckLog, Listing, PricePoint, Product, Store

    owner, _ = get_user_model().objects.get_or_create(username="bench")
    Product.objects.filter(owner=owner).delete()
    store, _ = Store.objects.get_or_create(domain="bench.test")
    started = time.perf_counter()
    now = timezone.now()
    log_checks = min(per_listing, settings.LOG_RETENTION_CONFIRMATIONS_DAYS * 96)
    for n in range(products):
        product = Product.objects.create(owner=owner, name=f"Bench product {n}")
        listing = Listing.objects.create(product=product, store=store, url=f"https://bench.test/p{n}", currency="EUR")
        checks, points = [], []
        price = Decimal("100.00")
        for i in range(per_listing):
            moment = now - timedelta(minutes=15 * (per_listing - i))
            if i % 37 == 0:
                price = Decimal(100 + (i * 7 + n) % 23)
            if i >= per_listing - log_checks:
                checks.append(
                    CheckLog(listing=listing, outcome="ok", queued_at=moment, finished_at=moment, http_status=200)
                )
            if points and points[-1].price == price:
                points[-1].last_confirmed_at = moment
                points[-1].confirmations += 1
            else:
                points.append(PricePoint(listing=listing, price=price, currency="EUR", checked_at=moment,
                                         method="json-ld", confirmations=1))
        CheckLog.objects.bulk_create(checks, batch_size=2000)
        PricePoint.objects.bulk_create(points, batch_size=2000)
        Listing.objects.filter(pk=listing.pk).update(
            last_price=price, status="ok", last_checked_at=now, last_point=points[-1]
        )
        # The summary the check path keeps, computed from the history as the migration does.
        history.listing_summary_rebuild(listing_model=Listing, point_model=PricePoint, listing_ids=[listing.pk])
    print(f"built {products} products x {per_listing} checks ({PricePoint.objects.count()} price points, "
          f"{CheckLog.objects.count()} check logs) in {time.perf_counter() - started:.1f} s")

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

    series = [charts.Series("s", selectors.listing_history(listing=first.listings.get()))]
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

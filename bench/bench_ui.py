"""Print how long the web UI takes to render with a lot of history (no timed asserts).

    DATA_DIR=/tmp/pt-bench-ui .venv/bin/python bench/bench_ui.py [products] [checks-per-listing]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_ui .venv/bin/python bench/bench_ui.py 1000 2880  # on PostgreSQL (a scratch database: the bench owner's products are replaced)
    .venv/bin/python bench/bench_ui.py 10000 2880      # 10,000 products
    .venv/bin/python bench/bench_ui.py 100 35040       # a year of 15-minute checks

Builds a throwaway SQLite database under DATA_DIR (default: a temp folder), or uses the
database DATABASE_URL names (its "bench" user's products are replaced): N products, one
listing each, checked every 15 minutes (high priority for a month = 2,880 checks), stored as
the check path stores them: one price point per change (the price changes every 37 checks)
spanning the checks that confirmed it, each listing's summary, and the check log the
housekeeping keeps (LOG_RETENTION_CONFIRMATIONS_DAYS of routine checks). The rows are
bulk-inserted: one template listing per price pattern, copied to the others in SQL (10,000
products x 2,880 checks, 6.7 million check-log rows, build in a few minutes). Then times the
dashboard (first and last page), a product page (90 days, a year and all) and the chart
functions alone; per page: the best wall time of 5, this process's CPU time (SQLite's work
included; what load changes least), the queries and their time. Targets (issue 15):
dashboard <= 150 ms at 1,000 x 2,880 and <= 300 ms at 10,000; a year's product page
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

    from tracker import charts
    from tracker.models import CheckLog, PricePoint, Product, Store

    owner, _ = get_user_model().objects.get_or_create(username="bench")
    Product.objects.filter(owner=owner).delete()
    store, _ = Store.objects.get_or_create(domain="bench.test")
    started = time.perf_counter()
    build(owner=owner, store=store, products=products, per_listing=per_listing)
    print(f"built {products} products x {per_listing} checks ({PricePoint.objects.count()} price points, "
          f"{CheckLog.objects.count()} check logs) on {connection.vendor} in {time.perf_counter() - started:.1f} s")

    client = Client()
    client.force_login(owner)

    def timed(label: str, url: str, repeat: int = 5) -> None:
        """The best of `repeat` runs; the time in SQL (of that run) says how much is the database's, and
        this process's CPU time (best of the runs; SQLite's work included) what load does not change."""
        best, sql, cpu = float("inf"), 0.0, float("inf")
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                t0, c0 = time.perf_counter(), time.process_time()
                response = client.get(url)
                elapsed, cpu = time.perf_counter() - t0, min(cpu, time.process_time() - c0)
            assert response.status_code == 200, response.status_code
            if elapsed < best:
                best, sql = elapsed, sum(float(query["time"]) for query in queries.captured_queries)
        print(f"{label:<34} {best * 1000:8.1f} ms  {cpu * 1000:6.1f} ms CPU  {len(queries):3d} queries  "
              f"{sql * 1000:6.1f} ms SQL  {len(response.content) / 1024:7.1f} KB")

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
    last_page = (products + 49) // 50
    timed(f"dashboard, page {last_page}", f"/?page={last_page}")
    timed("product page, 90 days", f"/products/{first.pk}/?days=90")
    timed("product page, 1 year", f"/products/{first.pk}/?days=365")
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


PATTERNS = 23  # the price of listing n follows pattern n % 23: (i * 7 + n) % 23 changes every 37 checks


def _copy_rows(model, *, template_id: int, listing_ids: list[int]) -> None:
    """Copy the template listing's rows of `model` to each of `listing_ids`, in the database
    (INSERT ... SELECT): millions of check-log rows without building them in Python."""
    from tracker.models import Listing

    table, listing_table = model._meta.db_table, Listing._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key and f.column != "check_log_id"]
    quote = connection.ops.quote_name
    chosen = ", ".join("l.id" if column == "listing_id" else f"t.{quote(column)}" for column in columns)
    with connection.cursor() as cursor:
        for start in range(0, len(listing_ids), 500):
            batch = listing_ids[start : start + 500]
            cursor.execute(
                f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) SELECT {chosen} "
                f"FROM {quote(table)} t CROSS JOIN {quote(listing_table)} l "
                f"WHERE t.listing_id = %s AND l.id IN ({', '.join(['%s'] * len(batch))})",
                [template_id, *batch],
            )


def build(*, owner, store, products: int, per_listing: int) -> None:
    """N products, one listing each, with `per_listing` checks of history as the check path
    stores it (one point per change spanning the checks that confirmed it), each listing's
    summary, and the check log the housekeeping keeps. Built with bulk inserts: one template
    listing per price pattern is written from Python, the others are copied from it in SQL."""
    from django.db.models import OuterRef, Subquery

    from tracker import history
    from tracker.models import CheckLog, Listing, PricePoint, Product

    now = timezone.now()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # a throwaway database: no waiting for the disk
            cursor.execute("PRAGMA synchronous = OFF")
    made = Product.objects.bulk_create(
        [Product(owner=owner, name=f"Bench product {n}") for n in range(products)], batch_size=2000
    )
    listings = Listing.objects.bulk_create(
        [
            Listing(product=product, store=store, url=f"https://bench.test/p{n}", currency="EUR", status="ok",
                    last_checked_at=now)
            for n, product in enumerate(made)
        ],
        batch_size=2000,
    )
    log_checks = min(per_listing, settings.LOG_RETENTION_CONFIRMATIONS_DAYS * 96)
    CheckLog.objects.bulk_create(
        [
            CheckLog(listing=listings[0], outcome="ok", queued_at=moment, finished_at=moment, http_status=200)
            for moment in (now - timedelta(minutes=15 * (log_checks - i)) for i in range(log_checks))
        ],
        batch_size=2000,
    )
    _copy_rows(CheckLog, template_id=listings[0].pk, listing_ids=[item.pk for item in listings[1:]])
    summary_fields = ("last_price", "last_price_at", "previous_price", "previous_price_at", "lowest_price",
                      "highest_price", "trend")
    for pattern in range(min(PATTERNS, products)):
        template = listings[pattern]
        points: list[PricePoint] = []
        price = Decimal("100.00")
        for i in range(per_listing):
            moment = now - timedelta(minutes=15 * (per_listing - i))
            if i % 37 == 0:
                price = Decimal(100 + (i * 7 + pattern) % 23)
            if points and points[-1].price == price:
                points[-1].last_confirmed_at = moment
                points[-1].confirmations += 1
            else:
                points.append(PricePoint(listing=template, price=price, currency="EUR", checked_at=moment,
                                         method="json-ld", confirmations=1))
        PricePoint.objects.bulk_create(points, batch_size=2000)
        Listing.objects.filter(pk=template.pk).update(last_price=price)
        # The summary the check path keeps, computed from the history as the migration does.
        history.listing_summary_rebuild(listing_model=Listing, point_model=PricePoint, listing_ids=[template.pk])
        others = [item.pk for item in listings[pattern + PATTERNS :: PATTERNS]]
        _copy_rows(PricePoint, template_id=template.pk, listing_ids=others)
        summary = Listing.objects.filter(pk=template.pk).values(*summary_fields).get()
        for start in range(0, len(others), 2000):
            Listing.objects.filter(pk__in=others[start : start + 2000]).update(**summary)
    Listing.objects.filter(product__owner=owner).update(
        last_point=Subquery(
            PricePoint.objects.filter(listing=OuterRef("pk")).order_by("-checked_at", "-pk").values("pk")[:1]
        )
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does soon after such a load (statistics, visibility map)
            cursor.execute("VACUUM ANALYZE")


if __name__ == "__main__":
    main()

"""Deal scout benchmark: scan throughput with 1,000 watches, comparables for 100,000 listings,
and what saving a watch costs (it is matched at once against every item already seen).

    .venv/bin/python bench/scout.py [--items 2000] [--watches 1000] [--listings 100000]

Runs on a throw-away SQLite database (or DATABASE_URL when set) and a local feed server on
127.0.0.1; sends nothing beyond loopback. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BRANDS = ["Sony", "MSI", "ASUS", "Gigabyte", "Apple", "Samsung", "Bose", "Lenovo", "Dell", "LG"]
FAMILIES = ["RTX", "WH-", "Galaxy S", "QC", "ThinkPad X", "OLED C", "Pixel ", "Xperia ", "Aspire ", "Zenbook UX"]
# 500 distinct model names: a watch names one of them, as people do ("rtx 4070", "wh-1000xm5").
MODELS = [f"{family}{number}" for family in FAMILIES for number in range(100, 5100, 100)]
EXTRA = ["Ti", "Super", "renewed", "bundle", "128GB", "black", "used", "case", "laptop", "12G"]


def feed(items: int, rng: random.Random) -> str:
    rows = []
    for i in range(items):
        title = f"{rng.choice(BRANDS)} {rng.choice(MODELS)} {rng.choice(EXTRA)} deal {i}"
        rows.append(
            f"<item><title>{title} - ${rng.randint(50, 1500)}.99</title>"
            f"<link>http://deals.test/d/{i}</link><guid>d-{i}</guid></item>"
        )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>b</title>{"".join(rows)}</channel></rss>'


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--watches", type=int, default=1000)
    parser.add_argument("--listings", type=int, default=100_000)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="pt-bench-scout-")
    os.environ.setdefault("DATA_DIR", tmp)
    os.environ["FETCH_ALLOW_HOSTS"] = "127.0.0.1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    from config.bootstrap import bootstrap
    bootstrap()
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from deals.models import DealListing, DealMatch, DealSource, Watch
    from deals.scout import comparables, match, scan

    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    body = feed(args.items, rng).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/rss"

    user = get_user_model().objects.create_user("bench", password="x")
    queries = []
    for _ in range(args.watches):
        model = rng.choice(MODELS)
        extra = rng.choice(["", " -laptop", " -case", " -used", " super"])
        queries.append(Watch(owner=user, query=f"{model}{extra}".lower()))
    Watch.objects.bulk_create(queries)
    source = DealSource.objects.create(name="bench", kind="feed", url=url, max_pages=1)

    started = time.perf_counter()
    report = scan.source_scan(source=source)
    elapsed = time.perf_counter() - started
    print(f"scan: {report.items} items, {args.watches} watches, {len(report.matches)} matches in {elapsed:.2f} s "
          f"-> {report.items / elapsed:.0f} items/s parsed and matched")
    started = time.perf_counter()
    report = scan.source_scan(source=source)
    elapsed = time.perf_counter() - started
    print(f"rescan (no changes): {report.items / elapsed:.0f} items/s")
    httpd.shutdown()

    # Comparables for 100,000 listings: 100 watches with 1,000 matched listings each.
    DealMatch.objects.all().delete()
    DealListing.objects.all().delete()
    Watch.objects.all().delete()
    watches = Watch.objects.bulk_create([Watch(owner=user, query=f"thing {i}") for i in range(100)])
    per = args.listings // len(watches)
    listings = [
        DealListing(source=source, external_id=f"x{i}", title=f"thing {i % 100}", price=Decimal(rng.randint(100, 900)))
        for i in range(args.listings)
    ]
    for start in range(0, len(listings), 5000):
        DealListing.objects.bulk_create(listings[start : start + 5000])
    ids = list(DealListing.objects.values_list("id", flat=True).order_by("id"))
    matches = [DealMatch(watch=watches[n // per % len(watches)], listing_id=lid) for n, lid in enumerate(ids)]
    for start in range(0, len(matches), 5000):
        DealMatch.objects.bulk_create(matches[start : start + 5000])
    started = time.perf_counter()
    updated = comparables.comps_refresh()
    elapsed = time.perf_counter() - started
    print(f"refresh_comps: {updated} listings re-scored in {elapsed:.1f} s ({updated / elapsed:.0f}/s)")

    # A watch saved with 100,000 items already seen: matched against all of them, then scored.
    watch = Watch.objects.create(owner=user, query="thing 7")
    started = time.perf_counter()
    found = match.watch_match(watch=watch)
    elapsed = time.perf_counter() - started
    print(f"watch saved: matched against {len(listings)} items ({len(found)} matches) in {elapsed:.2f} s")


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()

"""How many bytes a check costs the database, and what a year of history weighs.

    .venv/bin/python bench/storage.py                          # SQLite and PostgreSQL, 200 listings
    .venv/bin/python bench/storage.py --backends sqlite --listings 100 --rounds 5

N listings of the demo shop (on 127.0.0.1, a clock the benchmark moves) are checked in
process through the real check path (fetch, extract, record), round after round, one round
every 15 minutes of the checks' clock (the check path's `timezone.now`, moved by the
benchmark: routine checks are folded by the hour, so their spacing matters):
- unchanged rounds: the shop's clock stands still, every page shows the price it showed;
- changing rounds: the clock moves one price period per round, so many prices change.
Before and after each phase the size of every table and index is read (SQLite: dbstat
pages; PostgreSQL: pg_table_size and pg_relation_size), after three warm-up rounds so rows
updated in place have reached the size they keep. On PostgreSQL a plain VACUUM follows each
round, as autovacuum would run: dead row versions of updated and deleted rows become free
space that later rows reuse (SQLite reuses it without). Printed: bytes per unchanged and per
changed check (all tables and indexes; and without the check log, which retention prunes:
routine checks after LOG_RETENTION_CONFIRMATIONS_DAYS, the others after LOG_RETENTION_DAYS),
where the bytes go by table and index, and the projected size of 1,000 listings x 1 year at
one check every 15 minutes (--changes-per-day sets how often a price changes), counting the
check log retention keeps. PostgreSQL runs in a scratch database, dropped afterwards.
Loopback only.
Target (issue 15): <= 80 bytes per unchanged check, all tables; a year of 1,000 listings < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHECK_MINUTES = 15
CHECKS_PER_YEAR = 365 * 24 * 60 // CHECK_MINUTES
TARGET_UNCHANGED_BYTES = 80


def _vacuum(connection) -> None:
    """What autovacuum does on PostgreSQL: dead row versions (of updated and deleted rows)
    become free space that later rows reuse. SQLite reuses freed space without it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")


def _relation_sizes(connection) -> dict[str, int]:
    """Bytes of each table (TOAST included on PostgreSQL) and each index, as 'table' and
    'table/index'."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _vacuum(connection)
            cursor.execute(
                "SELECT t.relname, t.relname, pg_table_size(t.oid) FROM pg_class t "
                "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public' AND t.relkind = 'r' "
                "UNION ALL SELECT t.relname, i.relname, pg_relation_size(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'"
            )
            rows = cursor.fetchall()
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type IN ('table', 'index')")
            owner = {name: table for table, name in cursor.fetchall()}
            cursor.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
            rows = [(owner.get(name, name), name, size) for name, size in cursor.fetchall()]
    return {table if name == table else f"{table}/{name}": size for table, name, size in rows}


def _sizes(relations: dict[str, int]) -> dict[str, int]:
    """Bytes of each table, its indexes included."""
    sizes: dict[str, int] = {}
    for name, size in relations.items():
        table = name.split("/")[0]
        sizes[table] = sizes.get(table, 0) + size
    return sizes


def _child(listings: int, rounds: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from datetime import UTC, datetime, timedelta
    from unittest import mock

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from demoshop.catalogue import PRICE_PERIOD_MINUTES, PRODUCTS
    from demoshop.server import start_in_thread
    try:
        from tracker import checking as check_path
    except ImportError:  # before the check pipeline had its own module
        from tracker import services as check_path
    from tracker.models import Listing, Product, Store

    call_command("migrate", verbosity=0)
    clock = {"now": datetime(2026, 6, 1, 12, 0, tzinfo=UTC)}
    # The check path's clock: one round every CHECK_MINUTES, as the schedule would space them
    # (what is folded by the hour depends on it). The warm-up rounds end at the top of an hour.
    checks_clock = {"now": datetime(2026, 6, 1, 12, 0, tzinfo=UTC) - timedelta(minutes=3 * CHECK_MINUTES), "n": 0}

    def checks_now() -> datetime:
        checks_clock["n"] += 1
        return checks_clock["now"] + timedelta(microseconds=checks_clock["n"])

    mock.patch("django.utils.timezone.now", checks_now).start()
    shop = start_in_thread("127.0.0.1", 0, clock=lambda: clock["now"])
    owner = get_user_model().objects.create_user(username=f"bench-{uuid.uuid4().hex[:6]}", password="x")
    store, _ = Store.objects.get_or_create(domain="127.0.0.1")
    Store.objects.filter(pk=store.pk).update(rate_limit_per_minute=100_000, max_concurrency=100)
    products = Product.objects.bulk_create([Product(owner=owner, name=f"bench {i}") for i in range(listings)])
    Listing.objects.bulk_create(
        [
            Listing(product=product, store=store, url=f"{shop.url}/product/{PRODUCTS[i % len(PRODUCTS)].slug}?ref={i}")
            for i, product in enumerate(products)
        ]
    )
    ids = list(Listing.objects.filter(product__owner=owner).values_list("pk", flat=True))

    def one_round() -> tuple[int, int, dict]:
        changed = unchanged = 0
        outcomes: dict[str, int] = {}
        for listing in Listing.objects.filter(pk__in=ids).select_related("store"):
            before = (listing.last_price, listing.currency, listing.in_stock)
            check = check_path.check_create(listing=listing)
            check_path.listing_check(check_id=check.pk)
            after = Listing.objects.filter(pk=listing.pk).values_list("last_price", "currency", "in_stock").get()
            status = Listing.objects.filter(pk=listing.pk).values_list("status", flat=True).get()
            outcomes[status] = outcomes.get(status, 0) + 1
            if after == before:
                unchanged += 1
            else:
                changed += 1
        checks_clock["now"] += timedelta(minutes=CHECK_MINUTES)
        _vacuum(connection)
        return changed, unchanged, outcomes

    try:
        one_round()  # every listing's first price and page
        # Rows updated in place (the listing's state on every check) leave dead versions on
        # PostgreSQL until VACUUM frees them for reuse: two rounds first, so the tables reach
        # the size they keep, and the measured growth is what grows with the number of checks.
        one_round()
        one_round()
        sizes = [_relation_sizes(connection)]
        phase_unchanged = [0, 0]
        outcomes: dict[str, int] = {}
        for _ in range(rounds):
            changed, unchanged, seen = one_round()
            phase_unchanged[0] += changed
            phase_unchanged[1] += unchanged
            for key, value in seen.items():
                outcomes[key] = outcomes.get(key, 0) + value
        sizes.append(_relation_sizes(connection))
        phase_changing = [0, 0]
        for _ in range(rounds):
            clock["now"] += timedelta(minutes=PRICE_PERIOD_MINUTES)
            changed, unchanged, _seen = one_round()
            phase_changing[0] += changed
            phase_changing[1] += unchanged
        sizes.append(_relation_sizes(connection))
    finally:
        shop.stop()
    return {
        "vendor": connection.vendor,
        "sizes": sizes,
        "unchanged_phase": phase_unchanged,
        "changing_phase": phase_changing,
        "outcomes": outcomes,
        "retention_days": settings.LOG_RETENTION_DAYS,
        # Checks that only confirmed a price are pruned sooner (older versions: no such setting).
        "confirmation_days": getattr(settings, "LOG_RETENTION_CONFIRMATIONS_DAYS", settings.LOG_RETENTION_DAYS),
    }


def _growth(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {table: after.get(table, 0) - before.get(table, 0) for table in set(before) | set(after)}


def report(result: dict, *, changes_per_day: float, listings: int) -> None:
    relations = result["sizes"]
    sizes = [_sizes(item) for item in relations]
    changed_1, unchanged_1 = result["unchanged_phase"]
    changed_2, unchanged_2 = result["changing_phase"]
    grow_1, grow_2 = _growth(sizes[0], sizes[1]), _growth(sizes[1], sizes[2])
    checklog = "tracker_checklog"
    checks_1 = changed_1 + unchanged_1
    per_unchanged = sum(grow_1.values()) / max(checks_1, 1)
    per_unchanged_log = grow_1.get(checklog, 0) / max(checks_1, 1)
    per_unchanged_history = per_unchanged - per_unchanged_log
    total_2 = sum(grow_2.values())
    per_changed = (total_2 - unchanged_2 * per_unchanged) / max(changed_2, 1)
    per_changed_history = per_changed - per_unchanged_log
    print(f"== {result['vendor']} ({listings} listings; outcomes of the unchanged rounds: {result['outcomes']})")
    print(f"  unchanged rounds: {checks_1} checks ({changed_1} found another price)")
    print(f"  changing rounds:  {changed_2 + unchanged_2} checks, {changed_2} found another price")
    print(f"  bytes per unchanged check: {per_unchanged:8.1f} all tables ({per_unchanged_history:.1f} without the check log)"
          f"  target <= {TARGET_UNCHANGED_BYTES}")
    print(f"  bytes per changed check:   {per_changed:8.1f} all tables ({per_changed_history:.1f} without the check log)")
    top = sorted(((size, table) for table, size in grow_1.items() if size), reverse=True)[:5]
    print("  growth over the unchanged rounds: " + ", ".join(f"{table} {size / 1024:.0f} KB" for size, table in top))
    parts = _growth(relations[0], relations[1])
    top = sorted(((size, name) for name, size in parts.items() if size), reverse=True)[:8]
    print("    by table and index, bytes per unchanged check: "
          + ", ".join(f"{name} {size / max(checks_1, 1):.1f}" for size, name in top))
    parts = _growth(relations[1], relations[2])
    top = sorted(((size, name) for name, size in parts.items() if size), reverse=True)[:8]
    print("    changing rounds by table and index, bytes per check: "
          + ", ".join(f"{name} {size / max(changed_2 + unchanged_2, 1):.1f}" for size, name in top))
    changed_year = min(CHECKS_PER_YEAR, changes_per_day * 365)
    history = 1000 * ((CHECKS_PER_YEAR - changed_year) * per_unchanged_history + changed_year * per_changed_history)
    # The weekly cleanup lets a check live up to 7 days past its retention.
    days = min(result["confirmation_days"], result["retention_days"]) + 7
    log_kept = 1000 * min(CHECKS_PER_YEAR, days * 96) * per_unchanged_log
    log_kept += 1000 * changed_year * per_unchanged_log * min(1.0, (result["retention_days"] + 7) / 365)
    print(f"  1,000 listings x 1 year at 15 min ({changes_per_day:g} price change(s) a day): history "
          f"{history / 1e9:.3f} GB + check log (routine checks kept up to {days} days) {log_kept / 1e9:.3f} GB "
          f"= {(history + log_kept) / 1e9:.3f} GB  (target < 1 GB)")
    # Per-listing rows updated in place (listing, its sample page) do not grow with the number
    # of checks, but PostgreSQL's dead row versions can still be settling in a short run.
    growing = ("tracker_pricepoint", checklog)
    per_u = sum(grow_1.get(t, 0) for t in growing) / max(checks_1, 1) - per_unchanged_log
    per_c = (sum(grow_2.get(t, 0) for t in growing) - unchanged_2 * (per_u + per_unchanged_log)) / max(changed_2, 1)
    per_c -= per_unchanged_log
    only = 1000 * ((CHECKS_PER_YEAR - changed_year) * per_u + changed_year * per_c)
    print(f"  the same, counting only the tables that grow with checks (price points, check log): "
          f"{per_u:.1f} B per unchanged check, {per_c:.1f} B per changed one without the check log; "
          f"{(only + log_kept) / 1e9:.3f} GB a year")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listings", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=12,
                        help="rounds per phase (unchanged, then changing), one every 15 minutes of the checks' clock")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--changes-per-day", type=float, default=1.0, help="for the one-year projection")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(_child(args.listings, args.rounds)))
        return 0
    for backend in args.backends.split(","):
        env = dict(os.environ, DATA_DIR=tempfile.mkdtemp(prefix="pt-bench-storage-"), LOG_LEVEL="WARNING",
                   FETCH_ALLOW_HOSTS="127.0.0.0/8", FETCH_PACING_ENABLED="false", PYTHONPATH=str(ROOT))
        env.pop("DATABASE_URL", None)
        cleanup = None
        if backend == "postgresql":
            import psycopg

            db = f"pricetracker_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{db}"')
            env["DATABASE_URL"] = f"{args.pg_url}/{db}"

            def cleanup(db: str = db) -> None:
                with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

        try:
            done = subprocess.run(
                [sys.executable, __file__, "--child", "--listings", str(args.listings), "--rounds", str(args.rounds)],
                env=env, cwd=ROOT, capture_output=True, text=True, check=False,
            )
        finally:
            if cleanup is not None:
                cleanup()
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode or not lines:
            print(f"== {backend}: failed\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
            continue
        report(json.loads(lines[-1][7:]), changes_per_day=args.changes_per_day, listings=args.listings)
    return 0


if __name__ == "__main__":
    sys.exit(main())

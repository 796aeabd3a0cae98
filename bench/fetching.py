"""What the fetch safety layer costs, and what a worker holds in memory under attack.

    .venv/bin/python bench/fetching.py                          # file limiter (embedded default)
    .venv/bin/python bench/fetching.py --redis-url redis://127.0.0.1:6379/6
    .venv/bin/python bench/fetching.py --listings 300 --rounds 3 --skip-attack [--order store]

(a) N listings (default 1,000) over 50 demo shops on 127.0.0.2 ... 127.0.0.51 (served from
    another process). First the CPU of the fetch alone, one thread: the foundation's fetch,
    the gate's `fetch_page`, `listing_fetch`. Then worker threads run
    `checking.listing_check` (fetch, extract, record on SQLite) over the same listings:
      - "foundation": the foundation's fetch (plain `requests.get`, from git history), no
        gate, no robots.txt, no pacing, no circuit breaker;
      - "safety": the real path: address gate with pinned IPs, deadline watchdog, robots.txt
        cache, per-store pace + concurrency limiter (files, or Redis with --redis-url),
        circuit breaker. Stores allow 600 requests/min and 2 at once.
    Listings come in the dispatcher's order, shops mixed (`--order store`: one shop's
    listings back to back, which measures the concurrency limit sending checks back).
    Printed: checks/s, CPU a check and the cost of the safety layer (target < 10%).
(b) the limit holds: the same with a realistic 60 requests/min per store: checks/s, and the
    most requests one shop received (timed by the shop) in any 5 s and 10 s window.
(c) memory under attack: a child process with 8 threads fetching from a misbehaving server
    (gzip/deflate/brotli bombs, an endless body, a slow drip, 4 MB pages) through the gate for
    --attack-seconds; its peak RSS against its RSS after start-up.
Nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHOP_HOSTS = [f"127.0.0.{n}" for n in range(2, 52)]
FOUNDATION_COMMIT = "9902ce9"


def _serve_shops(conn, hosts: list[str]) -> None:
    """The shops, in their own process. Each request's arrival (host, path, monotonic time: one
    clock for every process on Linux) is kept, so the pace is measured where the shop sees it."""
    from demoshop import server

    arrivals: list[tuple[str, str, float]] = []
    serve = server._Handler._serve

    def counted(handler, *, head: bool) -> None:
        arrivals.append((handler.server.server_address[0], handler.path, time.monotonic()))
        serve(handler, head=head)

    server._Handler._serve = counted
    shops = [server.start_in_thread(host, 0) for host in hosts]
    conn.send([f"{shop.url}/product/__SLUG__" for shop in shops])
    while conn.recv() == "arrivals":  # anything else (or the parent dying) stops the shops
        conn.send(list(arrivals))
        arrivals.clear()


def _setup_django(data_dir: Path, redis_url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATA_DIR": str(data_dir),
            "FETCH_ALLOW_HOSTS": "127.0.0.0/8",
            "LOG_LEVEL": "WARNING",
            "METRICS_ENABLED": "false",
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": "filesystem://",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    from config.bootstrap import bootstrap
    bootstrap()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _foundation_fetch_page():
    """The foundation's `fetch_page`, loaded from git history: the figure without the safety layer."""
    source = subprocess.run(
        ["git", "show", f"{FOUNDATION_COMMIT}:tracker/fetching.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    spec = importlib.util.spec_from_loader("foundation_fetching", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules["foundation_fetching"] = module
    exec(compile(source, "foundation_fetching.py", "exec"), module.__dict__)  # noqa: S102
    from tracker.fetching import FetchError

    module.FetchError = FetchError  # so listing_check maps its errors as it did then
    return module.fetch_page


def _make_listings(urls: list[str], count: int, slugs: list[str]):
    from django.contrib.auth import get_user_model

    from tracker import services

    owner, _ = get_user_model().objects.get_or_create(username="bench")
    listings = []
    for i in range(count):
        shop = urls[i % len(urls)]
        url = shop.replace("__SLUG__", slugs[(i // len(urls)) % len(slugs)])
        listings.append(services.listing_add(owner=owner, url=f"{url}?listing={i}"))  # 1,000 distinct listings
    return listings


def _run_checks(listings, threads: int) -> dict:
    """Check every listing once with `threads` workers; a check sent back (store busy) is retried
    after its countdown, as the task would."""
    from django.db import connection

    from tracker import checking

    queue = collections.deque(checking.check_create(listing=listing).pk for listing in listings)
    delayed: list[tuple[float, int]] = []
    lock = threading.Lock()
    outcomes: collections.Counter = collections.Counter()
    remaining = [len(listings)]

    def take() -> int | None:
        while True:
            with lock:
                now = time.monotonic()
                for item in list(delayed):
                    if item[0] <= now:
                        delayed.remove(item)
                        queue.append(item[1])
                if queue:
                    return queue.popleft()
                if remaining[0] == 0:
                    return None
            time.sleep(0.01)

    def worker() -> None:
        try:
            while (check_id := take()) is not None:
                outcome = checking.listing_check(check_id=check_id)
                with lock:
                    if outcome is not None and outcome.requeue_in is not None:
                        delayed.append((time.monotonic() + outcome.requeue_in, check_id))
                        outcomes["(requeued)"] += 1
                        continue
                    remaining[0] -= 1
                    state = outcome.check.outcome if outcome else "lost"
                    outcomes[state] += 1
        finally:
            connection.close()

    started, cpu_started = time.monotonic(), time.process_time()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - started
    cpu_ms = (time.process_time() - cpu_started) * 1000 / len(listings)  # all threads; shops run elsewhere
    return {"checks_per_s": len(listings) / elapsed, "cpu_ms": cpu_ms, "seconds": elapsed, "outcomes": dict(outcomes)}


def busiest_window(arrivals: list[tuple[str, str, float]], seconds: float = 5.0) -> tuple[int, str]:
    """The most requests one shop received in any window of `seconds` (half-open: (t - s, t]),
    and which shop."""
    by_host: dict[str, list[float]] = collections.defaultdict(list)
    for host, _path, at in arrivals:
        by_host[host].append(at)
    best, best_host = 0, ""
    for host, times in by_host.items():
        times.sort()
        j = 0
        for i, t in enumerate(times):
            while times[j] <= t - seconds:
                j += 1
            if i - j + 1 > best:
                best, best_host = i - j + 1, host
    return best, best_host


def _ordered(listings: list, order: str) -> list:
    """"due": the dispatcher's order, by due time, which is jittered, so shops come mixed (a fixed
    shuffle, the same for both paths). "store": every listing of one shop back to back (the
    default model ordering), the limiter's worst case: 8 threads on one shop."""
    if order == "store":
        return sorted(listings, key=lambda listing: (listing.store.domain, listing.pk))
    mixed = sorted(listings, key=lambda listing: listing.pk)
    random.Random(4).shuffle(mixed)
    return mixed


def _fetch_cpu(listings: list, foundation_fetch, rounds: int) -> None:
    """CPU time of the fetch alone, one thread (no contention, so a steady figure): the
    foundation's fetch, the gate's `fetch_page`, and `listing_fetch` (gate, robots.txt cache,
    limiter, breaker). The difference is the safety layer's own cost."""
    from tracker.fetching import fetch_page, politeness

    ways = {
        "foundation fetch": lambda listing: foundation_fetch(listing.url),
        "gate fetch_page": lambda listing: fetch_page(listing.url),
        "listing_fetch": lambda listing: politeness.listing_fetch(listing=listing),
    }
    for listing in listings:
        politeness.listing_fetch(listing=listing)  # robots.txt read and cached, connections warm
    best: dict[str, float] = {}
    for _ in range(max(rounds, 2)):
        spent = dict.fromkeys(ways, 0.0)
        for listing in listings:  # the ways take turns, so a busier moment of the machine hits all three
            for name, fetch in ways.items():
                started = time.process_time()
                fetch(listing)
                spent[name] += time.process_time() - started
        for name, seconds in spent.items():
            best[name] = min(best.get(name, 1e9), seconds * 1000 / len(listings))
    base = best["foundation fetch"]
    print("(a) CPU a fetch, one thread, best of rounds: " + ", ".join(
        f"{name} {ms:.2f} ms ({100 * (ms - base) / base:+.0f}%)" for name, ms in best.items()))


def bench_checks(args) -> None:
    from django.conf import settings

    from demoshop.catalogue import PRODUCTS
    from tracker.fetching import pacing, politeness
    from tracker.models import CheckLog, Listing, PricePoint, Store

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve_shops, args=(child, SHOP_HOSTS), daemon=True)
    server.start()
    urls = parent.recv()
    try:
        slugs = [p.slug for p in PRODUCTS]
        listings = _make_listings(urls, args.listings, slugs)
        Store.objects.update(rate_limit_per_minute=600, max_concurrency=2)
        for listing in listings:
            listing.refresh_from_db()
        print(f"{len(listings)} listings over {Store.objects.count()} stores, {args.threads} worker threads, "
              f"order {args.order!r}")

        real_fetch = politeness.listing_fetch
        foundation_fetch = _foundation_fetch_page()
        _fetch_cpu(listings[: min(len(listings), 200)], foundation_fetch, args.rounds)
        results = {}
        for rnd in range(args.rounds):
            for mode in ("foundation", "safety"):
                if mode == "foundation":
                    politeness.listing_fetch = lambda *, listing: foundation_fetch(  # noqa: E731
                        listing.url, etag=listing.etag, last_modified=listing.last_modified
                    )
                else:
                    politeness.listing_fetch = real_fetch
                settings.FETCH_PACING_ENABLED = True
                Listing.objects.update(etag="", last_modified="")  # a full page every time
                PricePoint.objects.all().delete()
                CheckLog.objects.all().delete()
                result = _run_checks(_ordered(list(Listing.objects.select_related("store")), args.order), args.threads)
                results.setdefault(mode, []).append(result)
                print(f"  round {rnd + 1} {mode:10s} {result['checks_per_s']:7.1f} checks/s  "
                      f"{result['cpu_ms']:5.2f} ms CPU a check  {result['outcomes']}")
        politeness.listing_fetch = real_fetch
        base = max(r["checks_per_s"] for r in results["foundation"])
        safe = max(r["checks_per_s"] for r in results["safety"])
        cpu_base = min(r["cpu_ms"] for r in results["foundation"])
        cpu_safe = min(r["cpu_ms"] for r in results["safety"])
        print(f"(a) CPU a check (holds on a busy machine): foundation {cpu_base:.2f} ms, with the safety layer "
              f"{cpu_safe:.2f} ms: cost {100 * (cpu_safe - cpu_base) / cpu_base:+.1f}%")
        print(f"(a) best of {args.rounds} rounds each: foundation {base:.1f} checks/s, with the safety layer {safe:.1f} checks/s: "
              f"cost {100 * (base - safe) / base:+.1f}% (target < 10%); limiter: {type(pacing.limiter()).__name__}")

        Store.objects.update(rate_limit_per_minute=60, max_concurrency=2)
        subset = _ordered(list(Listing.objects.select_related("store").order_by("id")[: args.realistic_listings]), args.order)
        Listing.objects.update(etag="", last_modified="")
        CheckLog.objects.all().delete()
        parent.send("arrivals")
        parent.recv()  # forget the requests of (a)
        result = _run_checks(subset, args.threads)
        parent.send("arrivals")
        arrivals = parent.recv()
        ceiling = 60 / 60 * Store.objects.count()
        print(f"(b) realistic limit 60/min per store: {result['checks_per_s']:.1f} checks/s over {len(subset)} listings "
              f"(ceiling {ceiling:.0f}/s), outcomes {result['outcomes']}")
        for seconds in (5.0, 10.0):
            most, host = busiest_window(arrivals, seconds)
            print(f"(b) busiest store as the shop saw it: {most} requests in {seconds:.0f} s ({most * 60 / seconds:.0f}/min; "
                  f"limit {60 * seconds / 60:.0f}) at {host}, {len(arrivals)} requests in all")
    finally:
        parent.send("stop")
        server.join(5)
        if server.is_alive():
            server.kill()


def _attack_child(seconds: float, queue) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "tracker"))
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings", "FETCH_ALLOW_HOSTS": "127.0.0.1",
                       "LOG_LEVEL": "WARNING", "METRICS_ENABLED": "false", "FETCH_DEADLINE": "3"})
    import django

    from config.bootstrap import bootstrap
    bootstrap()
    django.setup()
    import misbehaving_server as m

    from tracker.fetching import FetchError, fetch_page

    shop = m.Shop("127.0.0.1")
    shop.routes.update(
        {
            "/gzip": m.bomb("gzip"), "/deflate": m.bomb("deflate"), "/br": m.bomb("br"),
            "/endless": m.endless(total_seconds=5), "/drip": m.drip(0.05, 5),
            "/big": m.page(b"<p>" + b"x" * (4 * 1024 * 1024) + b"</p>"),
        }
    )
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kinds: collections.Counter = collections.Counter()
    stop = time.monotonic() + seconds
    paths = list(shop.routes)
    lock = threading.Lock()

    def attacker(offset: int) -> None:
        i = offset
        while time.monotonic() < stop:
            try:
                fetch_page(shop.url(paths[i % len(paths)]))
                kind = "ok"
            except FetchError as exc:
                kind = exc.kind
            with lock:
                kinds[kind] += 1
            i += 1

    threads = [threading.Thread(target=attacker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({"start_mb": start_rss / 1024, "peak_mb": peak / 1024, "fetches": dict(kinds)})


def bench_attack(seconds: float) -> None:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_attack_child, args=(seconds, queue))
    child.start()
    result = queue.get(timeout=seconds + 120)
    child.join(30)
    print(f"(c) worker under attack for {seconds:.0f} s (8 threads; 32 MiB bombs, endless body, drip, 4 MB pages; "
          f"cap {5} MiB): peak RSS {result['peak_mb']:.0f} MB (after start-up {result['start_mb']:.0f} MB); "
          f"fetches {result['fetches']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=1000)
    parser.add_argument("--realistic-listings", type=int, default=300)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--order", choices=("due", "store"), default="due",
                        help="due: shops mixed, as the dispatcher sends them (default); store: one shop's listings back to back")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--attack-seconds", type=float, default=20.0)
    parser.add_argument("--skip-attack", action="store_true")
    parser.add_argument("--skip-checks", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-fetching-") as tmp:
        _setup_django(Path(tmp), args.redis_url)
        if not args.skip_checks:
            bench_checks(args)
        if not args.skip_attack:
            bench_attack(args.attack_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())

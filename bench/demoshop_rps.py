"""How many product pages a second the demo shop serves on loopback (target: about 200).

    .venv/bin/python bench/demoshop_rps.py [--requests 2000] [--clients 8] [--reviews 3]

Each request opens a new connection, as the fetcher does. Prints requests/s and latency
percentiles; no assertion.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demoshop.catalogue import PRODUCTS  # noqa: E402
from demoshop.server import start_in_thread  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--reviews", type=int, default=3, help="reviews per page (page size)")
    args = parser.parse_args()

    with start_in_thread() as shop:
        urls = [f"{shop.product_url(p.slug)}?reviews={args.reviews}" for p in PRODUCTS]

        def fetch(i: int) -> tuple[float, int, int]:
            started = time.perf_counter()
            response = requests.get(urls[i % len(urls)], timeout=10)
            return time.perf_counter() - started, response.status_code, len(response.content)

        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            results = list(pool.map(fetch, range(args.requests)))
        elapsed = time.perf_counter() - started

    latencies = sorted(r[0] * 1000 for r in results)
    failures = sum(1 for r in results if r[1] != 200)
    size = statistics.mean(r[2] for r in results)
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"requests: {args.requests}  clients: {args.clients}  page: {size / 1024:.1f} KB  failures: {failures}")
    print(f"throughput: {args.requests / elapsed:.0f} requests/s (client and server on this machine)")
    print(f"latency ms: p50 {statistics.median(latencies):.1f}  p95 {p95:.1f}  max {latencies[-1]:.1f}")


if __name__ == "__main__":
    main()

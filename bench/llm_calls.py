"""LLM calls and tokens per 1,000 checks: one learning per shop, not one call per check.

    .venv/bin/python bench/llm_calls.py [--shops 10] [--checks 1000]

Runs real checks (`checking.listing_check`: HTTP fetch on 127.0.0.x, extraction, recording) of
listings spread over several local test shops whose pages have no structured data and no
selector the heuristics can derive, so each shop needs the LLM agent. The agent talks to the
scripted OpenAI-compatible server of the tests (real HTTP, the real `openai` client); learning
runs inline where a worker would run `generate_pattern`. A throw-away SQLite database is used.
Nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _serve(host: str, pages: dict[str, str]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body = pages.get(self.path)
            data = (body or "not found").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--checks", type=int, default=1000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-llm-"))
    os.environ.update(
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        DATA_DIR=str(workdir),
        REDIS_URL="",
        CELERY_BROKER_URL="memory://",
        FETCH_ALLOW_HOSTS="127.0.0.0/8",
        FETCH_RESPECT_ROBOTS="false",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    import django

    from config.bootstrap import bootstrap
    bootstrap()
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from tests.tracker.fake_llm import FakeLLM, answer
    from tests.tracker.shop_pages import PRODUCTS, shop_page
    from tracker import checking
    from tracker.learning import learn
    from tracker.models import ExtractionPattern, Listing, LLMCall, PricePoint, Product, Store

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user(username="bench", password="bench-pw-123")
    product = Product.objects.create(owner=user, name="bench")
    listings: list[Listing] = []
    servers = []
    per_shop = max(2, args.checks // (args.shops * 5))
    for shop in range(args.shops):
        host = f"127.0.0.{shop + 2}"
        pages = {f"/p/{i}": shop_page(i % len(PRODUCTS), theme="v2").replace("Test Shop", f"Shop {shop}") for i in range(per_shop)}
        server = _serve(host, pages)
        servers.append(server)
        store = Store.objects.create(domain=host, rate_limit_per_minute=600_000, max_concurrency=50)
        for i in range(per_shop):
            listings.append(Listing.objects.create(product=product, store=store, url=f"http://{host}:{server.server_address[1]}/p/{i}"))

    with FakeLLM([{"content": answer(".pdp__pricing .pdp__amount")}]) as llm:
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, settings.OPENAI_MODEL = "bench", llm.base_url, "scripted"
        started = time.monotonic()
        learned = 0
        for n in range(args.checks):
            listing = listings[n % len(listings)]
            check = checking.check_create(listing=listing)
            outcome = checking.listing_check(check_id=check.pk)
            if outcome is not None and outcome.learn_pattern:
                learned += 1
                learn.pattern_learn(store=listing.store)  # what generate_pattern runs on the llm queue
        elapsed = time.monotonic() - started

    for server in servers:
        server.shutdown()
        server.server_close()
    calls = LLMCall.objects.count()
    prompt = sum(LLMCall.objects.values_list("prompt_tokens", flat=True))
    completion = sum(LLMCall.objects.values_list("completion_tokens", flat=True))
    per_k = 1000 / args.checks
    by_method: dict[str, int] = {}
    for method in PricePoint.objects.values_list("method", flat=True):
        by_method[method] = by_method.get(method, 0) + 1
    print(f"checks: {args.checks} over {len(listings)} listings in {args.shops} shops ({per_shop} listings each)")
    print(f"learnings queued: {learned}; active patterns: {ExtractionPattern.objects.filter(status='active').count()}")
    print(f"LLM calls: {calls} ({calls * per_k:.1f} per 1,000 checks)")
    print(f"LLM tokens: {prompt} prompt + {completion} completion = {prompt + completion} "
          f"({(prompt + completion) * per_k:.0f} per 1,000 checks, {(prompt + completion) / max(calls, 1):.0f} per call)")
    print(f"prices recorded by method: {by_method}")
    print(f"time per check (fetch + extract + record, local): {elapsed / args.checks * 1000:.1f} ms")


def trim_report(corpus: Path) -> None:
    """How the token budget fares on real saved shop pages: size after trimming, and whether
    the page's real price is still in what the model would see."""
    import gzip
    import json
    import re
    import statistics

    from tracker.learning.llm import PAGE_BUDGET_CHARS, page_trim

    truth_file = corpus / "truth.json"
    if not truth_file.exists():
        return
    truth = json.loads(truth_file.read_text())
    sizes, raw_sizes, kept, priced = [], [], 0, 0
    for name, facts in truth.items():
        path = corpus / f"{name}.html.gz"
        if not path.exists():
            continue
        html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        trimmed = page_trim(html)
        raw_sizes.append(len(html))
        sizes.append(len(trimmed))
        if facts.get("price"):
            priced += 1
            whole, cents = facts["price"].split(".")
            digits = re.compile(rf"{whole[:-3] + '[.,  ]?' + whole[-3:] if len(whole) > 3 else whole}([.,]{cents})?")
            kept += bool(digits.search(trimmed))  # attributes count: the model sees content="..."
    if not sizes:
        return
    print(f"real pages ({len(sizes)}, {corpus.relative_to(ROOT)}): raw median {statistics.median(raw_sizes) / 1000:.0f} kB -> "
          f"trimmed median {statistics.median(sizes) / 1000:.1f} kB, max {max(sizes) / 1000:.1f} kB "
          f"(budget {PAGE_BUDGET_CHARS / 1000:.0f} kB ~ {PAGE_BUDGET_CHARS // 4} tokens); "
          f"price still in the trimmed page: {kept}/{priced}")


if __name__ == "__main__":
    main()
    trim_report(ROOT / "tests" / "fixtures" / "pages")

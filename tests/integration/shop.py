"""A tiny shop on loopback whose prices a test sets, and which counts the pages it serves."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def listing_due(*, owner, shop: TinyShop, slug: str, price: str, priority: str = "normal"):
    """A listing of `shop`'s product `slug`, which states `price`, due for a check now."""
    from django.utils import timezone

    from tracker import services
    from tracker.models import Listing

    shop.prices[slug] = Decimal(price)
    listing = services.listing_add(owner=owner, url=shop.product_url(slug), priority=priority)
    Listing.objects.filter(pk=listing.pk).update(next_check_at=timezone.now() - timedelta(minutes=1))
    return listing


class TinyShop:
    """Product pages with JSON-LD offers at `/p/<slug>`; `prices[slug]` is what they state."""

    def __init__(self, host: str = "127.0.0.1", *, delay: float = 0.0, currency: str = "EUR") -> None:
        self.prices: dict[str, Decimal] = {}
        self.hits: Counter[str] = Counter()
        self.delay = delay
        self.currency = currency
        self._lock = threading.Lock()
        shop = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                slug = self.path.removeprefix("/p/").split("?")[0]
                with shop._lock:
                    shop.hits[self.path] += 1
                    price = shop.prices.get(slug) if self.path.startswith("/p/") else None
                if shop.delay:
                    time.sleep(shop.delay)
                if self.path == "/robots.txt":
                    self._send(200, "User-agent: *\nAllow: /\n", "text/plain")
                elif price is None:
                    self._send(404, "<html><body>Not found</body></html>")
                else:
                    self._send(200, shop.page(slug, price))

            def _send(self, status: int, body: str, content_type: str = "text/html") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def page(self, slug: str, price: Decimal) -> str:
        data = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": f"Product {slug}",
            "offers": {
                "@type": "Offer",
                "price": str(price),
                "priceCurrency": self.currency,
                "availability": "https://schema.org/InStock",
            },
        }
        return (
            f"<!doctype html><html><head><title>Product {slug}</title>"
            f'<script type="application/ld+json">{json.dumps(data)}</script></head>'
            f"<body><h1>Product {slug}</h1><p class=price>{price} {self.currency}</p></body></html>"
        )

    def product_url(self, slug: str) -> str:
        return f"{self.url}/p/{slug}"

    def served(self, slug: str) -> int:
        with self._lock:
            return self.hits[f"/p/{slug}"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

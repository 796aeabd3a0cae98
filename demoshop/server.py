"""Serve the demo shop over real HTTP (stdlib only), in a thread or as a process.

    with start_in_thread() as shop:          # a free port on 127.0.0.1
        requests.get(shop.product_url("aurora-espresso-machine"))

Routes: `/` (index), `/product/<slug>` (`?reviews=N` makes the page longer), `/img/<slug>.svg`,
`/robots.txt` (allows everything), `/info/shipping` (a page with no price),
`/downloads/price-list.pdf` (a PDF), `/api/products.json` (the current prices),
`/deals/feed.xml` (an RSS deal feed of the current offers, for the deal scout), 404 otherwise.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import pages
from .catalogue import PRODUCTS, in_stock_at, price_at, product_get
from .deals_feed import deals_feed

Clock = Callable[[], datetime]
MAX_REVIEWS = 2000


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # bursts of checks from a busy worker must not be refused

    theme: str = "v1"
    clock: Clock = staticmethod(_utc_now)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "DemoShop/1.0"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        pass  # quiet: tests and the run script would drown in access lines

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _base_url(self) -> str:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return f"http://{host}"

    def _serve(self, *, head: bool) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query)
        theme = self.server.theme
        now = self.server.clock()
        status, content_type, body = 200, "text/html; charset=utf-8", b""
        if path == "/":
            body = pages.index_page(base_url=self._base_url(), now=now, theme=theme).encode()
        elif path == "/robots.txt":
            content_type, body = "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n"
        elif path.startswith("/product/"):
            slug = path.removeprefix("/product/")
            try:
                product = product_get(slug)
            except KeyError:
                status, body = 404, pages.not_found_page(theme=theme).encode()
            else:
                try:
                    reviews = min(max(int(query.get("reviews", ["3"])[0]), 0), MAX_REVIEWS)
                except ValueError:
                    reviews = 3
                ctx = pages.PageContext(product, self._base_url(), now, theme=theme, reviews=reviews)
                body = pages.product_page(ctx).encode()
        elif path.startswith("/img/") and path.endswith(".svg"):
            try:
                product = product_get(path.removeprefix("/img/").removesuffix(".svg"))
            except KeyError:
                status, body = 404, pages.not_found_page(theme=theme).encode()
            else:
                content_type, body = "image/svg+xml", pages.product_image(product).encode()
        elif path == "/info/shipping":
            body = pages.info_page(theme=theme).encode()
        elif path == "/downloads/price-list.pdf":
            content_type, body = "application/pdf", pages.PRICE_LIST_PDF
        elif path == "/deals/feed.xml":
            content_type = "application/rss+xml; charset=utf-8"
            body = deals_feed(base_url=self._base_url(), now=now).encode()
        elif path == "/api/products.json":
            content_type = "application/json"
            body = json.dumps(
                [
                    {
                        "slug": p.slug,
                        "name": p.name,
                        "template": p.template,
                        "url": f"{self._base_url()}/product/{p.slug}",
                        "price": str(price_at(p.slug, now)),
                        "currency": p.currency,
                        "in_stock": in_stock_at(p.slug, now),
                    }
                    for p in PRODUCTS
                ],
                indent=1,
            ).encode()
        else:
            status, body = 404, pages.not_found_page(theme=theme).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)


class DemoShop:
    """A running demo shop. Stop it with `.stop()` or use it as a context manager."""

    def __init__(self, server: _Server, thread: threading.Thread | None = None) -> None:
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"

    def product_url(self, slug: str) -> str:
        product_get(slug)  # a typo in a test fails here, not as a puzzling 404
        return f"{self.url}/product/{slug}"

    @property
    def theme(self) -> str:
        return self._server.theme

    def set_theme(self, name: str) -> None:
        if name not in pages.THEMES:
            raise ValueError(f"unknown theme {name!r}; choose from {', '.join(pages.THEMES)}")
        self._server.theme = name

    def set_clock(self, clock: Clock | None) -> None:
        self._server.clock = clock or _utc_now

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        """Release the socket (after `serve_forever` returned)."""
        self._server.server_close()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> DemoShop:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def make_server(host: str = "127.0.0.1", port: int = 0, *, theme: str = "v1", clock: Clock | None = None) -> DemoShop:
    """Bind the shop's socket without serving yet (`.serve_forever()` serves)."""
    server = _Server((host, port), _Handler)
    shop = DemoShop(server)
    shop.set_theme(theme)
    shop.set_clock(clock)
    return shop


def start_in_thread(
    host: str = "127.0.0.1", port: int = 0, *, theme: str = "v1", clock: Clock | None = None
) -> DemoShop:
    """Start the shop in a daemon thread; it answers as soon as this returns."""
    shop = make_server(host, port, theme=theme, clock=clock)
    thread = threading.Thread(target=shop.serve_forever, name=f"demoshop-{shop.port}", daemon=True)
    shop._thread = thread
    thread.start()
    return shop

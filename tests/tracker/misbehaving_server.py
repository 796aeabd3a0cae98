"""Loopback servers for the fetch tests: a shop that misbehaves on request, and sentinels.

Everything binds to 127.0.0.x. A `Sentinel` only counts the connections it accepts: a test
that points a refused URL at it proves no connection was made by asserting the count is 0.
`NetGuard` stubs the resolver and refuses (and records) any connect outside loopback, so a
wrong answer fails inside the test instead of leaving the machine.
"""

from __future__ import annotations

import gzip
import ipaddress
import socket
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli

Handler = Callable[[BaseHTTPRequestHandler], None]


class Shop(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        super().__init__((host, port), _Dispatch)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def host(self) -> str:
        return self.server_address[0]

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Dispatch(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        self.server.requests.append((self.path, dict(self.headers)))  # type: ignore[attr-defined]
        handler = self.server.routes.get(self.path.split("?")[0])  # type: ignore[attr-defined]
        if handler is None:
            send(self, 404, b"<html><body>not found</body></html>")
            return
        try:
            handler(self)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def product_html(title: str, price: str = "12.00", extra: str = "") -> str:
    """An ordinary product page: a title, a price in JSON-LD and on the page, some text."""
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product", '
        f'"name": "{title}", "offers": {{"@type": "Offer", "price": "{price}", "priceCurrency": "EUR", '
        '"availability": "https://schema.org/InStock"}}</script>'
        f"{extra}</head><body><h1>{title}</h1><p class=\"price\">{price} EUR</p>"
        "<p>Free delivery from 50 EUR. Order today, shipped tomorrow. Two-year warranty.</p>"
        "</body></html>"
    )


def send(
    h: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str = "text/html; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> None:
    h.send_response(status)
    if content_type:
        h.send_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        h.send_header(key, value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def page(body: bytes | str, content_type: str = "text/html; charset=utf-8", status: int = 200, **headers: str) -> Handler:
    data = body.encode() if isinstance(body, str) else body
    return lambda h: send(h, status, data, content_type, {k.replace("_", "-"): v for k, v in headers.items()})


def redirect(location: str, status: int = 302) -> Handler:
    return lambda h: send(h, status, b"", "", {"Location": location})


def drip(interval: float = 0.2, total_seconds: float = 60.0) -> Handler:
    """Headers at once, then one byte every `interval` seconds."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        h.wfile.write(b"<html>")
        h.wfile.flush()
        end = time.monotonic() + total_seconds
        while time.monotonic() < end:
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(interval)

    return handler


def drip_headers(interval: float = 0.2, total_seconds: float = 60.0) -> Handler:
    """A status line, then a header that never ends, one byte at a time."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        h.wfile.flush()
        end = time.monotonic() + total_seconds
        while time.monotonic() < end:
            h.wfile.write(b"a")
            h.wfile.flush()
            time.sleep(interval)

    return handler


def endless(chunk: int = 65536, total_seconds: float = 30.0) -> Handler:
    """A chunked body that never ends, as fast as the client reads."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        data = b"<p>" + b"a" * chunk + b"</p>"
        frame = f"{len(data):x}\r\n".encode() + data + b"\r\n"
        end = time.monotonic() + total_seconds
        while time.monotonic() < end:
            h.wfile.write(frame)

    return handler


def bomb(encoding: str, size: int = 32 * 1024 * 1024) -> Handler:
    """A small compressed body that inflates to `size` bytes."""
    zeros = b"\0" * (1024 * 1024)
    if encoding == "gzip":
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    elif encoding == "deflate":
        comp = zlib.compressobj(9, zlib.DEFLATED, 15)
    else:
        comp = None
    if comp is not None:
        body = b"".join(comp.compress(zeros) for _ in range(size // len(zeros))) + comp.flush()
    else:
        compressor = brotli.Compressor(quality=5)
        body = b"".join(compressor.process(zeros) for _ in range(size // len(zeros))) + compressor.finish()
    return lambda h: send(h, 200, body, "text/html", {"Content-Encoding": encoding})


def gzipped(html: str) -> Handler:
    return lambda h: send(h, 200, gzip.compress(html.encode()), "text/html; charset=utf-8", {"Content-Encoding": "gzip"})


class Sentinel:
    """A listener that accepts and counts connections (and closes them at once)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(50)
        self.sock.settimeout(0.02)
        self.accepted = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def host(self) -> str:
        return self.sock.getsockname()[0]

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


class NetGuard:
    """Stub DNS answers by name and refuse any connect outside loopback.

    `answers[name]` is a list of addresses, or a list of such lists (one per lookup, the last
    repeated): a name whose answer changes between lookups. `lookups[name]` counts them.
    """

    def __init__(self) -> None:
        self.answers: dict[str, list] = {}
        self.lookups: dict[str, int] = {}
        self.connects: list[tuple[str, int]] = []
        self.forbidden: list[tuple[str, int]] = []
        self.divert: dict[tuple[str, int], tuple[str, int]] = {}

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002, ANN001
        name = (host.decode() if isinstance(host, bytes) else str(host)).lower().rstrip(".")
        if name in self.answers:
            count = self.lookups.get(name, 0)
            self.lookups[name] = count + 1
            answer = self.answers[name]
            if answer and isinstance(answer[0], list):
                answer = answer[min(count, len(answer) - 1)]
            result = []
            for address in answer:
                ip = ipaddress.ip_address(address)
                fam = socket.AF_INET if ip.version == 4 else socket.AF_INET6
                sockaddr = (address, int(port or 0)) if ip.version == 4 else (address, int(port or 0), 0, 0)
                result.append((fam, socket.SOCK_STREAM, 6, "", sockaddr))
            return result
        if name == "localhost":
            return _real_getaddrinfo(host, port, family, type, proto, flags)
        # Numeric addresses only: never a real DNS query.
        return _real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)

    def check(self, sock: socket.socket, address) -> tuple:  # noqa: ANN001
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return address
        host, port = address[0], address[1]
        self.connects.append((host, port))
        if (host, port) in self.divert:
            return self.divert[(host, port)] + tuple(address[2:])
        if not _is_loopback(host):
            self.forbidden.append((host, port))
            raise OSError(101, f"test network guard: connect to {host} refused")
        return address

    def install(self, monkeypatch) -> NetGuard:  # noqa: ANN001
        guard = self

        def connect(sock, address):  # noqa: ANN001
            return _real_connect(sock, guard.check(sock, address))

        def connect_ex(sock, address):  # noqa: ANN001
            return _real_connect_ex(sock, guard.check(sock, address))

        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        return self


class TLSShop(Shop):
    """A `Shop` that speaks https with the certificate and key given."""

    def __init__(self, cert: str, key: str, host: str = "127.0.0.1") -> None:
        import ssl

        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        super().__init__(host)

    def get_request(self):  # type: ignore[no-untyped-def]
        sock, address = super().get_request()
        return self.context.wrap_socket(sock, server_side=True), address

"""The one gate every outgoing HTTP request of PriceTracker goes through.

People type the URLs we fetch, and we fetch them from inside their network. So:

- `validate_url` checks the form: http/https only, no credentials, no backslashes or control
  characters, no odd IP spellings (`2130706433`, `0x7f.1`, `127.1`).
- The host name is resolved once, every answer is checked against `address_refusal`, and the
  connection is pinned to the checked address (requests-hardened's adapter design: the pool
  connects to the IP, the `Host` header and TLS SNI keep the name). After connecting, the peer
  address of the socket is compared with the checked one. There is no second, separate lookup.
- Redirects are followed by hand, at most `FETCH_MAX_REDIRECTS`, each hop validated and
  gated again.
- Connect and read timeouts, a wall-clock deadline for the whole download (a watchdog shuts
  the socket down), and a body cap counted after decompression.

Entry points: `fetch_page` (product pages: HTML only, block pages refused), `safe_get` (any
other GET: robots.txt, deal feeds, pattern learning; JSON on request), `safe_request` (e.g.
webhook POSTs) and `gate_session` (a `requests.Session` with the address gate mounted, for code
that must hand a session to a library).
"""

from __future__ import annotations

import codecs
import heapq
import ipaddress
import json
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError
from urllib3.util.connection import allowed_gai_family

from . import blocking


class FetchError(Exception):
    """A page could not be fetched. `kind` says why, `transient` whether retrying may help.

    Kinds: invalid, refused, network, timeout, http, not_html, too_large, redirects, decode,
    blocked.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "network",
        http_status: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.http_status = http_status
        self.transient = transient
        self.retry_after = retry_after


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int
    text: str = ""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    elapsed_ms: int = 0
    not_modified: bool = False
    encoding: str = ""
    redirects: list[str] = field(default_factory=list)
    content: bytes = field(default=b"", repr=False)  # the body after decompression

    def json(self) -> Any:
        return json.loads(self.text)


HTML_TYPES = ("text/html", "application/xhtml+xml")
JSON_TYPES = ("application/json", "text/json")
TEXT_TYPES = ("text/plain",)
TRANSIENT_STATUSES = (408, 425, 429, 500, 502, 503, 504)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


# --- Addresses ---------------------------------------------------------------------------

# Ranges `ipaddress` does not flag on every Python version, or that reach IPv4 space
# through a translation or tunnel (and so can reach any internal IPv4 address).
_EXTRA_REFUSED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "100.64.0.0/10",  # CGNAT; `is_private` misses it
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # 6to4 relay anycast
        "198.18.0.0/15",  # benchmarking
        "::ffff:0:0/96",  # IPv4-mapped
        "::/96",  # IPv4-compatible (deprecated)
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",  # local-use NAT64
        "2002::/16",  # 6to4
        "2001::/32",  # Teredo
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fec0::/10",  # site-local (deprecated)
        "5f00::/16",  # segment routing
    )
)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in ipaddress.ip_network("64:ff9b::/96") or ip in ipaddress.ip_network("::/96"):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why the gate refuses to connect to `ip`, or None when it is a public unicast address."""
    if ip.version == 6:
        embedded = _embedded_ipv4(ip)  # type: ignore[arg-type]
        if embedded is not None:
            inner = address_refusal(embedded) or "a public address"
            return f"an IPv6 form that embeds an IPv4 address ({embedded}: {inner})"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives here)"
    if ip.is_multicast:
        return "a multicast address"
    if ip in ipaddress.ip_network("100.64.0.0/10"):
        return "a carrier-grade NAT address"
    if ip.is_private:
        return "a private network address"
    if ip.is_reserved:
        return "a reserved address"
    if any(ip in net for net in _EXTRA_REFUSED if net.version == ip.version):
        return "a special-purpose address"
    if not ip.is_global:
        return "a non-public address"
    return None


@lru_cache(maxsize=8)
def _parse_allow(entries: tuple[str, ...]) -> tuple[frozenset[str], tuple]:
    names: set[str] = set()
    nets = []
    for entry in entries:
        entry = entry.strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            nets.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry)
    return frozenset(names), tuple(nets)


def _allowed_by_setting(hostname: str, ip) -> bool:
    names, nets = _parse_allow(tuple(getattr(settings, "FETCH_ALLOW_HOSTS", []) or []))
    if hostname.lower().rstrip(".") in names:
        return True
    return any(ip.version == net.version and ip in net for net in nets)


class GateRefused(Exception):
    """The gate will not connect to this address. Not an OSError, so no layer retries it."""


def resolve_checked(hostname: str, port: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Resolve `hostname` once and return the address to connect to.

    Every answer is checked, not only the first: a name that resolves to a public and a
    private address is refused, so an attacker cannot win by ordering the answers.
    """
    host = hostname.strip("[]")
    try:
        infos = socket.getaddrinfo(host, port, family=allowed_gai_family(), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise requests.ConnectionError(f"could not resolve {hostname}") from exc
    addresses = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        addresses.append(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]))
    if not addresses:
        raise requests.ConnectionError(f"could not resolve {hostname}")
    for ip in addresses:
        if _allowed_by_setting(host, ip):
            continue
        reason = address_refusal(ip)
        if reason:
            raise GateRefused(f"{hostname} resolves to {ip}, {reason}")
    return addresses[0]


# --- The connection layer ----------------------------------------------------------------

_local = threading.local()


class _PeerCheckMixin:
    """After connecting, the socket's peer must be the address the gate checked."""

    def _new_conn(self):  # type: ignore[no-untyped-def]
        sock = super()._new_conn()  # type: ignore[misc]
        try:
            peer = ipaddress.ip_address(str(sock.getpeername()[0]).split("%")[0])
            expected = ipaddress.ip_address(self.host.strip("[]"))  # type: ignore[attr-defined]
        except (OSError, ValueError):
            sock.close()
            raise GateRefused("could not confirm the connected address") from None
        if peer != expected and getattr(peer, "ipv4_mapped", None) != expected:
            sock.close()
            raise GateRefused(f"connected to {peer}, not the checked {expected}")
        return sock


class _GuardedHTTPConnection(_PeerCheckMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_PeerCheckMixin, HTTPSConnection):
    pass


class _DeadlineMixin:
    """Hands every connection used during a fetch to that fetch's deadline watchdog."""

    def _get_conn(self, timeout=None):  # type: ignore[no-untyped-def]
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        if conn.sock is not None:
            conn.close()  # one connection per request (the shop may have closed it meanwhile)
        deadline = getattr(_local, "deadline", None)
        if deadline is not None:
            deadline.connections.append(conn)
        return conn


class _GuardedHTTPPool(_DeadlineMixin, HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(_DeadlineMixin, HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GateAdapter(IPFilterAdapter):
    """requests-hardened's pinned-IP adapter with PriceTracker's address policy.

    The pool is keyed on the checked IP; the `Host` header and, for https, SNI and the
    certificate check keep the original name.
    """

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):  # type: ignore[no-untyped-def]
        raise GateRefused("the fetch gate does not use proxies")

    def build_connection_pool_key_attributes(self, request, verify, cert=None):  # type: ignore[no-untyped-def]
        host_params, pool_kwargs = HTTPAdapter.build_connection_pool_key_attributes(self, request, verify, cert)
        request.headers = CaseInsensitiveDict(request.headers or {})
        hostname = host_params["host"]
        host_header = f"[{hostname}]" if ":" in hostname else hostname
        port = host_params["port"]
        default_port = 443 if self._is_https_proto else 80
        if port is not None and port != default_port:
            host_header += f":{port}"
        request.headers["Host"] = host_header
        if self._is_https_proto:
            pool_kwargs["assert_hostname"] = hostname
            pool_kwargs["server_hostname"] = hostname
        ip = resolve_checked(hostname, port or default_port)
        host_params["host"] = str(ip)
        return host_params, pool_kwargs


def gate_session() -> requests.Session:
    """A `requests.Session` whose every connection goes through the address gate.

    For callers that need a session (webhooks, libraries). It ignores proxy and .netrc
    settings from the environment and follows at most `FETCH_MAX_REDIRECTS` redirects, each
    hop gated. It does not cap sizes or time: prefer `safe_get`/`safe_request`.
    """
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = settings.FETCH_MAX_REDIRECTS
    session.mount("http://", GateAdapter(is_https_proto=False))
    session.mount("https://", GateAdapter(is_https_proto=True))
    session.headers["User-Agent"] = settings.FETCH_USER_AGENT
    return session


def _thread_session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = gate_session()
        _local.session = session
    session.cookies.clear()  # no cookie travels from one fetch to the next
    return session


# --- Deadline watchdog -------------------------------------------------------------------


class _Deadline:
    __slots__ = ("at", "connections", "expired", "done")

    def __init__(self, at: float) -> None:
        self.at = at
        self.connections: list = []
        self.expired = False
        self.done = False

    def __lt__(self, other: _Deadline) -> bool:
        return self.at < other.at

    def expire(self) -> None:
        self.expired = True
        for conn in self.connections:
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Watchdog:
    """One thread per process that cuts off downloads past their wall-clock deadline."""

    def __init__(self) -> None:
        self._heap: list[_Deadline] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: _Deadline) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._heap = [d for d in self._heap if not d.done]
                self._thread = threading.Thread(target=self._run, name="fetch-deadline", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, deadline)
            if self._heap[0] is deadline:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(5.0)
                    continue
                wait = self._heap[0].at - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                due = heapq.heappop(self._heap)
            if not due.done:
                due.expire()


_watchdog = _Watchdog()


def _after_fork_in_child() -> None:
    # A forked worker must not inherit the parent's watchdog lock (maybe held) or sockets.
    global _watchdog
    _watchdog = _Watchdog()
    _local.session = None
    _local.deadline = None


os.register_at_fork(after_in_child=_after_fork_in_child)


# --- URL form ------------------------------------------------------------------------------

_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_DOTTED_QUAD = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")
_HOST_CHARS = re.compile(r"^[a-z0-9.\-_]+$")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


def validate_url(url: str) -> str:
    """Check the form of a URL a person typed; returns it stripped or raises FetchError.

    Addresses are checked later, on the address actually connected to; this refuses what no
    shop needs and what URL parsers disagree on.
    """
    url = (url or "").strip()
    if len(url) > 2000:
        raise FetchError("the address is too long", kind="invalid")
    if "\\" in url:
        raise FetchError("the address contains a backslash", kind="invalid")
    if _CONTROL_OR_SPACE.search(url):
        raise FetchError("the address contains spaces or control characters", kind="invalid")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"the address cannot be read: {exc}", kind="invalid") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError("only http:// and https:// addresses can be tracked", kind="invalid")
    if not url[len(parts.scheme) :].startswith("://"):
        raise FetchError("the address must start with http:// or https://", kind="invalid")
    if "@" in parts.netloc or parts.username or parts.password:
        raise FetchError("addresses with a user name or password are not allowed", kind="invalid")
    host = parts.hostname or ""
    if not host:
        raise FetchError("the address has no host name", kind="invalid")
    if port == 0:
        raise FetchError("the address has an invalid port", kind="invalid")
    if "%" in parts.netloc:
        raise FetchError("the host name contains percent-encoding", kind="invalid")
    if host.startswith("[") or ":" in host:
        try:
            ipaddress.IPv6Address(host.strip("[]"))
        except ValueError as exc:
            raise FetchError("the address has an invalid IPv6 host", kind="invalid") from exc
        return url
    try:
        ascii_host = host.encode("idna").decode("ascii").lower() if not host.isascii() else host.lower()
    except UnicodeError as exc:
        raise FetchError("the host name is not a valid international name", kind="invalid") from exc
    ascii_host = ascii_host.rstrip(".")
    if not ascii_host or not _HOST_CHARS.match(ascii_host) or ".." in ascii_host:
        raise FetchError("the host name contains characters a host name cannot have", kind="invalid")
    last_label = ascii_host.rsplit(".", 1)[-1]
    if _NUMERIC_LABEL.match(last_label) and (not _DOTTED_QUAD.match(ascii_host) or host.endswith(".")):
        # WHATWG parsers read `2130706433`, `0x7f.1`, `127.1`, `0177.0.0.1` as IPv4.
        raise FetchError("the host is an IP address in an unusual spelling", kind="invalid")
    if not host.isascii() and _DOTTED_QUAD.match(ascii_host):
        raise FetchError("the host is an IP address in an unusual spelling", kind="invalid")
    return url


# --- Decoding ------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE
)
_SINGLE_BYTE = {"ascii", "latin-1", "iso8859-1", "cp1252", "us-ascii", "windows-1252"}


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def _charset_from_header(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'")
    return None


def decode_body(body: bytes | bytearray, *, content_type: str = "") -> tuple[str, str]:
    """Text of a body and the encoding used: BOM, then HTTP header, then `<meta>`, then detection.

    A declared single-byte charset on a body that is valid UTF-8 with non-ASCII bytes is
    taken as UTF-8: shops mislabel, and real Latin-1 text is almost never valid UTF-8.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(name, errors="replace"), name
    declared = [_codec(_charset_from_header(content_type))]
    match = _META_CHARSET.search(body[:4096])
    declared.append(_codec(match.group(1).decode("ascii", "ignore")) if match else None)
    for encoding in declared:
        if not encoding:
            continue
        if encoding in {_codec(n) for n in _SINGLE_BYTE} and not body.isascii():
            try:
                return body.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                pass
        try:
            return body.decode(encoding), encoding
        except UnicodeDecodeError:
            continue  # a wrong declaration: try the next source
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(body[:200_000])
    best = matches.best()
    encoding = _codec(best.encoding if best else None) or "utf-8"
    if best is not None and encoding != "cp1252":
        # Single-byte code pages are hard to tell apart; windows-1252 is by far the most used
        # on the web, so it wins a near tie.
        for match in matches:
            if match.encoding == "cp1252" and match.chaos <= best.chaos + 0.01:
                encoding = "cp1252"
                break
    return body.decode(encoding, errors="replace"), encoding


# --- Fetching ------------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    cap = float(getattr(settings, "FETCH_RETRY_AFTER_MAX", 6 * 3600))
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    seconds = when.timestamp() - (now if now is not None else time.time())
    return min(max(seconds, 0.0), cap)


def _accepted(content_type: str, accept: str) -> bool:
    if accept == "any":
        return True
    allowed: tuple[str, ...] = HTML_TYPES
    if accept == "json":
        allowed = JSON_TYPES
    elif accept == "text":
        allowed = TEXT_TYPES + HTML_TYPES
    if not content_type:
        return accept in ("html", "text")
    return content_type in allowed or (accept == "json" and content_type.endswith("+json"))


_ACCEPT_HEADERS = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    "json": "application/json,*/*;q=0.5",
    "text": "text/plain,*/*;q=0.5",
    "any": "*/*",
}


def _read_body(response: requests.Response, *, limit: int, deadline: _Deadline) -> bytearray:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and not response.headers.get("Content-Encoding") and int(declared) > limit:
        raise FetchError("the page is larger than the size limit", kind="too_large")
    raw = response.raw
    body = bytearray()
    try:
        while True:
            # read1 returns what one socket read gives (a slow drip cannot stall the
            # deadline check) and decompresses at most 64 KiB at a time (no bomb in memory).
            chunk = raw.read1(65536, decode_content=True)
            if deadline.expired:
                break
            if not chunk:
                break
            body.extend(chunk)
            if len(body) > limit:
                raise FetchError("the page is larger than the size limit (after decompression)", kind="too_large")
    except DecodeError as exc:
        raise FetchError("the page's compression is broken", kind="decode") from exc
    except (ProtocolError, ReadTimeoutError, OSError, requests.RequestException) as exc:
        if deadline.expired:
            raise FetchError("the download took longer than the deadline", kind="timeout", transient=True) from exc
        if isinstance(exc, ReadTimeoutError | TimeoutError):
            raise FetchError("the shop stopped sending", kind="timeout", transient=True) from exc
        raise FetchError(f"the connection broke: {exc.__class__.__name__}", transient=True) from exc
    if deadline.expired:
        raise FetchError("the download took longer than the deadline", kind="timeout", transient=True)
    return body


def safe_request(
    method: str,
    url: str,
    *,
    accept: str = "any",
    headers: dict[str, str] | None = None,
    data: bytes | str | None = None,
    json_body: Any = None,
    max_bytes: int | None = None,
    deadline: float | None = None,
    detect_blocks: bool = False,
    raise_for_status: bool = True,
    follow_redirects: bool = True,
) -> FetchResult:
    """Send one request through the gate with every limit, following gated redirects.

    `accept`: "html", "json", "text" (robots.txt) or "any" (no type check). Redirects are
    followed for GET/HEAD only (`follow_redirects=False` returns the 3xx instead). Raises
    FetchError; a 304 returns `not_modified=True`.
    """
    url = validate_url(url)
    method = method.upper()
    limit = max_bytes or settings.FETCH_MAX_BYTES
    send_headers = {
        "User-Agent": settings.FETCH_USER_AGENT,
        "Accept": _ACCEPT_HEADERS.get(accept, "*/*"),
        "Accept-Language": "en;q=0.9,*;q=0.5",
        "Accept-Encoding": "gzip, deflate, br",
        # One connection per request: a check reaches a shop every few seconds at most, so
        # a kept-alive socket would idle; and every connection is resolved and checked anew.
        "Connection": "close",
    }
    send_headers.update(headers or {})
    session = _thread_session()
    started = time.monotonic()
    guard = _Deadline(started + (deadline or settings.FETCH_DEADLINE))
    _watchdog.add(guard)
    _local.deadline = guard
    redirects: list[str] = []
    try:
        current = url
        while True:
            response = _send(session, method, current, send_headers, data, json_body, guard)
            if follow_redirects and response.status_code in REDIRECT_STATUSES and method in ("GET", "HEAD"):
                location = response.headers.get("Location", "")
                response.close()
                if not location:
                    raise FetchError("the shop redirected without a destination", kind="redirects")
                if len(redirects) >= settings.FETCH_MAX_REDIRECTS:
                    raise FetchError(
                        f"more than {settings.FETCH_MAX_REDIRECTS} redirects", kind="redirects"
                    )
                target = urljoin(current, location.encode("latin-1", "replace").decode("utf-8", "replace"))
                try:
                    target = validate_url(target)
                except FetchError as exc:
                    raise FetchError(f"redirected to a refused address: {exc}", kind="refused") from exc
                if target in redirects or target == url:
                    raise FetchError("the shop's redirects go round in a loop", kind="redirects")
                redirects.append(target)
                current = target
                continue
            with response:
                return _finish(
                    response,
                    url=url,
                    accept=accept,
                    limit=limit,
                    guard=guard,
                    started=started,
                    redirects=redirects,
                    detect_blocks=detect_blocks,
                    raise_for_status=raise_for_status,
                )
    finally:
        guard.done = True
        _local.deadline = None


def _send(session, method, url, headers, data, json_body, guard) -> requests.Response:  # type: ignore[no-untyped-def]
    try:
        return session.request(
            method,
            url,
            headers=headers,
            data=data,
            json=json_body,
            timeout=(settings.FETCH_CONNECT_TIMEOUT, settings.FETCH_READ_TIMEOUT),
            stream=True,
            allow_redirects=False,
        )
    except GateRefused as exc:
        raise FetchError(f"refused: {exc}", kind="refused") from exc
    except requests.Timeout as exc:
        raise FetchError("the shop did not answer in time", kind="timeout", transient=True) from exc
    except requests.RequestException as exc:
        if guard.expired:
            raise FetchError("the download took longer than the deadline", kind="timeout", transient=True) from exc
        cause = exc.__context__ or exc.__cause__
        if isinstance(cause, GateRefused):
            raise FetchError(f"refused: {cause}", kind="refused") from exc
        raise FetchError(f"could not reach the shop: {exc.__class__.__name__}", transient=True) from exc


def _finish(
    response: requests.Response,
    *,
    url: str,
    accept: str,
    limit: int,
    guard: _Deadline,
    started: float,
    redirects: list[str],
    detect_blocks: bool,
    raise_for_status: bool,
) -> FetchResult:
    status = response.status_code
    headers = dict(response.headers)
    raw_type = response.headers.get("Content-Type", "")
    content_type = raw_type.split(";")[0].strip().lower()
    final_url = redirects[-1] if redirects else url
    if status == 304:
        return FetchResult(url, final_url, 304, headers=headers, elapsed_ms=_ms(started), not_modified=True, redirects=redirects)
    if detect_blocks:
        reason = blocking.block_reason_from_headers(status=status, headers=headers)
        if reason:
            raise FetchError(f"blocked by the shop: {reason}", kind="blocked", http_status=status)
    if status >= 400 and raise_for_status:
        text = ""
        if detect_blocks and content_type in HTML_TYPES + ("",):
            try:
                text, _ = decode_body(_read_body(response, limit=min(limit, 512 * 1024), deadline=guard), content_type=raw_type)
            except FetchError:
                text = ""
            reason = blocking.block_reason(status=status, headers=headers, text=text)
            if reason:
                raise FetchError(f"blocked by the shop: {reason}", kind="blocked", http_status=status)
        raise FetchError(
            f"the shop answered HTTP {status}",
            kind="http",
            http_status=status,
            transient=status in TRANSIENT_STATUSES,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if not _accepted(content_type, accept):
        kind_name = {"json": "JSON", "text": "text"}.get(accept, "web page")
        raise FetchError(f"not a {kind_name} (content type {content_type})", kind="not_html", http_status=status)
    body = _read_body(response, limit=limit, deadline=guard)
    text, encoding = decode_body(body, content_type=raw_type)
    if detect_blocks:
        reason = blocking.block_reason(status=status, headers=headers, text=text)
        if reason:
            raise FetchError(f"blocked by the shop: {reason}", kind="blocked", http_status=status)
    return FetchResult(
        url,
        final_url,
        status,
        text=text,
        content_type=content_type,
        headers=headers,
        elapsed_ms=_ms(started),
        encoding=encoding,
        redirects=redirects,
        content=bytes(body) if accept == "any" else b"",  # kept only for callers that pass bytes on
    )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def safe_get(url: str, *, accept: str = "html", headers: dict[str, str] | None = None, **kwargs: Any) -> FetchResult:
    """GET through the gate with every limit. For robots.txt use accept="text", for feeds "json"."""
    return safe_request("GET", url, accept=accept, headers=headers, **kwargs)


def fetch_page(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    user_agent: str | None = None,
) -> FetchResult:
    """Fetch one product page: HTML only, conditional, block and challenge pages refused."""
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    if user_agent:
        headers["User-Agent"] = user_agent
    return safe_request("GET", url, accept="html", headers=headers, detect_blocks=True)

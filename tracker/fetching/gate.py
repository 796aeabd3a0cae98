"""The connection layer: a requests adapter pinned to the checked address, and the deadline
watchdog that cuts off a download past its wall-clock limit."""

from __future__ import annotations

import heapq
import ipaddress
import os
import socket
import threading
import time

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.contrib.socks import SOCKSHTTPConnectionPool, SOCKSHTTPSConnectionPool

from .addresses import GateRefused, resolve_checked

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


# Through a proxy the socket's peer is the proxy, so only the deadline is added: the target's
# address was checked when the pool key was built, and the proxy is asked for that address.
class _ProxyHTTPPool(_DeadlineMixin, HTTPConnectionPool):
    pass


class _ProxyHTTPSPool(_DeadlineMixin, HTTPSConnectionPool):
    pass


class _SocksHTTPPool(_DeadlineMixin, SOCKSHTTPConnectionPool):
    pass


class _SocksHTTPSPool(_DeadlineMixin, SOCKSHTTPSConnectionPool):
    pass


class GateAdapter(IPFilterAdapter):
    """requests-hardened's pinned-IP adapter with PriceTracker's address policy.

    The pool is keyed on the checked IP; the `Host` header and, for https, SNI and the
    certificate check keep the original name. Through a proxy (`proxies=` of a request, see
    `proxies.py`) the pool key is the same checked IP, so the proxy is asked for it.
    """

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):  # type: ignore[no-untyped-def]
        manager = self.proxy_manager.get(proxy)
        if manager is None:
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            if proxy.lower().startswith("socks"):
                manager.pool_classes_by_scheme = {"http": _SocksHTTPPool, "https": _SocksHTTPSPool}
            else:
                manager.pool_classes_by_scheme = {"http": _ProxyHTTPPool, "https": _ProxyHTTPSPool}
        return manager

    def cert_verify(self, conn, url, verify, cert):  # type: ignore[no-untyped-def]
        # requests checks certificates by the page's scheme, and so would talk TLS unverified to
        # an https:// proxy carrying an http:// page (with the proxy's password): a pool that
        # speaks TLS is verified whatever the page's scheme.
        if getattr(conn, "scheme", "") == "https" and not url.lower().startswith("https"):
            url = "https:" + url.partition(":")[2]
        super().cert_verify(conn, url, verify, cert)

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
    settings from the environment (a proxy is used only when a request passes `proxies`) and follows at most `FETCH_MAX_REDIRECTS` redirects, each
    hop gated. It does not cap sizes or time: prefer `safe_get`/`safe_request`.
    """
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = settings.FETCH_MAX_REDIRECTS
    session.mount("http://", GateAdapter(is_https_proto=False))
    session.mount("https://", GateAdapter(is_https_proto=True))
    session.headers["User-Agent"] = settings.FETCH_USER_AGENT
    return session


def thread_session() -> requests.Session:
    """This thread's gated session, with no cookies left from an earlier fetch."""
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


def deadline_start(seconds: float) -> _Deadline:
    """Arm the watchdog for one fetch on this thread: every connection the fetch opens is shut
    down when `seconds` have passed."""
    guard = _Deadline(time.monotonic() + seconds)
    _watchdog.add(guard)
    _local.deadline = guard
    return guard


def deadline_end(guard: _Deadline) -> None:
    guard.done = True
    _local.deadline = None

"""Outbound guard for channel sends: no connection to a private or loopback address.

Apprise makes its own HTTP and SMTP connections, so the tracker's fetch gate cannot wrap
them. Instead, while `outbound_guard()` is active in the current context, every name
resolution (`socket.getaddrinfo`, which requests, urllib3 and smtplib all go through right
before connecting) drops private, loopback, link-local, multicast and reserved addresses,
unless the host or network is listed in `FETCH_ALLOW_HOSTS`. Resolving at connect time means
a name that changes its answer after the URL was checked (DNS rebinding) is still refused.
Outside the guard, resolution is untouched.
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

# The refusals of the active guard (None: no guard active in this context).
_active: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("deals_outbound_guard", default=None)
_install_lock = threading.Lock()
_resolve = socket.getaddrinfo  # the real resolver; tests replace this to stub DNS


class OutboundRefused(OSError):
    """A channel tried to reach an address it may not."""


def _allow_rules() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names: set[str] = set()
    networks = []
    for item in getattr(settings, "FETCH_ALLOW_HOSTS", []) or []:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            names.add(item.lower().rstrip("."))
    return names, networks


def address_allowed(address: str, *, host: str = "") -> bool:
    names, networks = _allow_rules()
    if host and host.lower().rstrip(".") in names:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in networks):
        return True
    from tracker.fetching import address_refusal  # one address policy for every outbound path

    return address_refusal(ip) is None


def _guarded_getaddrinfo(host, port, *args, **kwargs):
    answers = _resolve(host, port, *args, **kwargs)
    refusals = _active.get()
    if refusals is None:
        return answers
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    kept = [a for a in answers if address_allowed(str(a[4][0]), host=name)]
    if not kept:
        message = (
            f"refused to connect to {name}: it resolves to a private or local address "
            "(allow it with FETCH_ALLOW_HOSTS)"
        )
        refusals.append(message)  # libraries may swallow the exception; the caller still learns
        raise OutboundRefused(message)
    return kept


def _install() -> None:
    with _install_lock:
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo


def host_check(host: str) -> None:
    """Refuse a host given as an IP literal or a dotted name that resolves to a private address.
    Raises OutboundRefused. Names that do not resolve now are left to the send-time guard."""
    host = (host or "").strip("[]")
    if not host:
        return
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        literal = True
    except ValueError:
        literal = False
    if not literal and "." not in host and host.lower() != "localhost":
        return  # a service token in the host field (telegram://TOKEN), not a place
    try:
        answers = _resolve(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return
    if not any(address_allowed(str(a[4][0]), host=host) for a in answers):
        raise OutboundRefused(
            f"{host} is a private or local address; channels may not send there "
            "(allow it with FETCH_ALLOW_HOSTS)"
        )


@contextmanager
def outbound_guard() -> Iterator[list[str]]:
    """Within this block (this thread / context only), refuse private destinations.
    Yields the list of refusals made inside the block."""
    _install()
    refusals: list[str] = []
    token = _active.set(refusals)
    try:
        yield refusals
    finally:
        _active.reset(token)

"""Outbound guard for channel sends: no connection or datagram to a private or loopback address.

Apprise makes its own connections (HTTP, SMTP, raw TCP and UDP), so the tracker's fetch gate
cannot wrap them. Instead, while `outbound_guard()` is active in the current context:
- every name resolution through `socket.getaddrinfo` (requests, urllib3, smtplib) drops
  private, loopback, link-local, multicast and reserved addresses;
- every socket's `connect`, `connect_ex`, `sendto` and `sendmsg` resolves its destination
  here, in Python, checks each answer, and hands the C layer the checked IP literal. A plugin
  that gives `sendto` a host name (rsyslog does) would otherwise resolve it in C, past the
  getaddrinfo check. Unix-domain sockets are refused outright.
Hosts or networks listed in `FETCH_ALLOW_HOSTS` are let through. Checking at connect time
means a name that changes its answer after the URL was saved (DNS rebinding) is still refused.
Outside the guard, sockets and resolution are untouched.

Which Apprise schemes may be saved at all is `schemes.py`'s list: those whose connections go
through these checks.
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


def _refuse(message: str) -> OutboundRefused:
    refusals = _active.get()
    if refusals is not None:
        refusals.append(message)  # libraries may swallow the exception; the caller still learns
    return OutboundRefused(message)


def _address_checked(sock: socket.socket, address):
    """The destination `address` of `sock` as a checked IP literal tuple; raises OutboundRefused."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        raise _refuse("refused: channels may only use internet sockets")
    if not isinstance(address, tuple) or len(address) < 2:
        raise _refuse(f"refused to connect to {address!r}: not a host and port")
    host, port = address[0], address[1]
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    answers = _resolve(name, port, sock.family, sock.type)
    for answer in answers:
        ip = str(answer[4][0])
        if address_allowed(ip, host=name):
            return (ip, port, *address[2:])
    raise _refuse(
        f"refused to connect to {name}: it resolves to a private or local address "
        "(allow it with FETCH_ALLOW_HOSTS)"
    )


# The socket methods as the C layer provides them; the guard calls through these.
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto
_real_sendmsg = socket.socket.sendmsg


def _guarded_connect(self, address):
    if _active.get() is not None:
        address = _address_checked(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if _active.get() is not None:
        address = _address_checked(self, address)
    return _real_connect_ex(self, address)


def _guarded_sendto(self, data, *args):
    if _active.get() is not None and args:
        args = (*args[:-1], _address_checked(self, args[-1]))
    return _real_sendto(self, data, *args)


def _guarded_sendmsg(self, buffers, *args):
    if _active.get() is not None and len(args) >= 3 and args[2] is not None:
        args = (*args[:2], _address_checked(self, args[2]), *args[3:])
    return _real_sendmsg(self, buffers, *args)


def _install() -> None:
    with _install_lock:
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo
        if socket.socket.connect is not _guarded_connect:
            socket.socket.connect = _guarded_connect
            socket.socket.connect_ex = _guarded_connect_ex
            socket.socket.sendto = _guarded_sendto
            socket.socket.sendmsg = _guarded_sendmsg


def host_check(host: str, *, place: bool = False) -> None:
    """Refuse a host that is, or resolves (in Python, here) to, a private or local address.
    `place`: the host field always names a machine (json://HOST), so a name that does not
    resolve is refused too; otherwise it may be a service token (tgram://TOKEN) and a name that
    does not resolve is left to the send-time guard, which checks every connection anyway.
    Raises OutboundRefused."""
    host = (host or "").strip("[]")
    if not host:
        return
    if not place and "." not in host and ":" not in host and host.lower() != "localhost":
        return  # a service token (tgram://TOKEN): asking DNS about it would leak it
    try:
        answers = _resolve(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        if place:
            raise OutboundRefused(f"{host} does not resolve; channels may only send to a host that does") from None
        return
    refused = [a for a in answers if not address_allowed(str(a[4][0]), host=host)]
    if refused:  # one private answer is enough: the library may pick any of them
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

"""Which addresses the gate connects to, and which URLs it accepts at all.

A host name is resolved once and every answer is checked against `address_refusal`; the
connection is then pinned to the checked address (see `gate.py`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from django.conf import settings
from urllib3.util.connection import allowed_gai_family

from .results import FetchError

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

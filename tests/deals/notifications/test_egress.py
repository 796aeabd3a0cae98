"""Notification egress: no packet reaches a refused address, whatever the Apprise scheme.

Sentinels (a TCP listener and a UDP socket) wait on 127.0.0.77, a loopback address outside the
allow list. DNS is stubbed: every name resolves to the sentinel address, so the cloud services'
fixed hosts lead there too and nothing leaves loopback. The connect step under the guard is
patched to steer whatever the guard lets through to the sentinels' ports, so a leak on any port
arrives and is counted.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest
from apprise.manager_plugins import NotificationManager

from deals.models import Channel
from deals.notifications import netguard
from deals.notifications.channels import ChannelError, _send_apprise, channel_add, channel_send
from deals.notifications.content import Message
from deals.notifications.schemes import GUARDED_SCHEMES

pytestmark = pytest.mark.django_db

SENTINEL = "127.0.0.77"
MESSAGE = Message(title="t", text="hello", html="")

# URL forms tried in turn until Apprise builds a plugin: host forms first (they point at the
# sentinel directly), then token forms for the cloud services.
SHAPES = (
    "{s}://{h}:{p}/",
    "{s}://user:pass@{h}:{p}/target",
    "{s}://{h}:{p}/" + "a" * 32,
    "{s}://" + "a" * 32 + "/" + "b" * 32,
    "{s}://user@{h}:{p}/%23chan",
    "{s}://" + "1" * 10 + ":" + "A" * 35 + "/" + "1" * 9,
    "{s}://" + "a" * 32,
    "{s}://" + "a" * 8 + "/" + "b" * 8 + "/" + "c" * 8 + "/" + "d" * 8,
    "{s}://user:pass@{h}:{p}/+15551234567",
    "{s}://" + "a" * 32 + "@" + "b" * 32 + "/+15551234567",
    "{s}://+15551234567/+15551234567",
    "{s}://" + "a" * 20 + ":" + "b" * 20 + "@+15551234567/+15551234567",
)


def scheme_url(scheme: str, port: int) -> str | None:
    import apprise

    for shape in SHAPES:
        url = shape.format(s=scheme, h=SENTINEL, p=port)
        try:
            if apprise.Apprise.instantiate(url) is not None:
                return url
        except Exception:  # noqa: BLE001 - a plugin's parser may raise on a form it does not take
            continue
    return None


class Sentinels:
    def __init__(self) -> None:
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind((SENTINEL, 0))
        self.tcp.listen(64)
        self.tcp.settimeout(0.2)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((SENTINEL, 0))
        self.udp.settimeout(0.2)
        self.attempts: list[tuple] = []

    def arrivals(self) -> int:
        count = 0
        for sock, take in ((self.tcp, self.tcp.accept), (self.udp, lambda: self.udp.recvfrom(65536))):
            while True:
                try:
                    got = take()
                except (TimeoutError, BlockingIOError):
                    break
                count += 1
                if sock is self.tcp:
                    got[0].close()
        return count

    def close(self) -> None:
        self.tcp.close()
        self.udp.close()


@pytest.fixture
def sentinels(monkeypatch, settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    box = Sentinels()
    tcp_port, udp_port = box.tcp.getsockname()[1], box.udp.getsockname()[1]

    def fake_resolve(host, port, family=0, type=0, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            address = str(ipaddress.ip_address(name))
        except ValueError:
            address = SENTINEL  # every name leads to the sentinel: nothing leaves loopback
        kind = type or socket.SOCK_STREAM
        return [(socket.AF_INET, kind, 0, "", (address, int(port or 0)))]

    def steer(sock, address):
        box.attempts.append(address)
        port = udp_port if sock.type == socket.SOCK_DGRAM else tcp_port
        return (SENTINEL, port)

    real = (netguard._real_connect, netguard._real_connect_ex, netguard._real_sendto, netguard._real_sendmsg)
    monkeypatch.setattr(netguard, "_resolve", fake_resolve)
    monkeypatch.setattr(socket, "gethostbyname", lambda name: SENTINEL)
    monkeypatch.setattr(socket, "getfqdn", lambda name="": "localhost")
    monkeypatch.setattr(netguard, "_real_connect", lambda s, a: real[0](s, steer(s, a)))
    monkeypatch.setattr(netguard, "_real_connect_ex", lambda s, a: real[1](s, steer(s, a)))
    monkeypatch.setattr(netguard, "_real_sendto", lambda s, d, *a: real[2](s, d, *a[:-1], steer(s, a[-1])))
    monkeypatch.setattr(
        netguard, "_real_sendmsg", lambda s, b, *a: real[3](s, b, *a[:2], steer(s, a[2]) if len(a) > 2 else None)
    )
    from apprise.url import URLBase

    monkeypatch.setattr(URLBase, "throttle", lambda self, *a, **k: None)  # no pauses between requests
    yield box
    box.close()


def test_an_rsyslog_channel_sends_no_datagram_to_a_refused_address(sentinels):
    """The finding: rsyslog resolves in C (sendto), past the getaddrinfo check."""
    port = sentinels.udp.getsockname()[1]
    with pytest.raises(ChannelError, match="private or local"):
        _send_apprise(url=f"rsyslog://{SENTINEL}:{port}/", message=MESSAGE)
    with pytest.raises(ChannelError):
        _send_apprise(url=f"rsyslog://logs-host:{port}/", message=MESSAGE)
    assert sentinels.arrivals() == 0
    assert sentinels.attempts == []


def test_an_rsyslog_channel_saved_before_the_fix_is_refused_when_sending(user, sentinels):
    from deals.notifications.crypto import secret_encrypt

    port = sentinels.udp.getsockname()[1]
    channel = Channel.objects.create(
        owner=user, name="old", kind=Channel.Kind.APPRISE, url_encrypted=secret_encrypt(f"rsyslog://loghost:{port}/")
    )
    with pytest.raises(ChannelError):
        channel_send(channel=channel, message=MESSAGE)
    assert sentinels.arrivals() == 0


def test_every_guarded_scheme_sends_nothing_to_a_refused_address(sentinels):
    registry = NotificationManager()
    port = sentinels.tcp.getsockname()[1]
    sent, unbuilt, leaks = [], [], {}
    for scheme in sorted(registry.schemas()):
        if scheme not in GUARDED_SCHEMES:
            continue
        url = scheme_url(scheme, port)
        if url is None:
            unbuilt.append(scheme)
            continue
        before = len(sentinels.attempts)
        try:
            _send_apprise(url=url, message=MESSAGE)
        except ChannelError:
            pass
        arrived = sentinels.arrivals()
        if arrived or len(sentinels.attempts) > before:
            leaks[scheme] = (arrived, sentinels.attempts[before:])
        sent.append(scheme)
    assert unbuilt == [], "guarded schemes need a URL form in SHAPES"
    assert leaks == {}
    assert len(sent) == len(GUARDED_SCHEMES & set(registry.schemas())) > 150


def test_schemes_that_cannot_be_guarded_are_refused_at_save_with_a_reason(user, sentinels):
    registry = NotificationManager()
    refused = sorted(set(registry.schemas()) - GUARDED_SCHEMES)
    assert {"dbus", "gnome", "syslog", "windows", "macosx"} <= set(refused)
    for scheme in refused:
        url = scheme_url(scheme, 514) or f"{scheme}://{SENTINEL}/"
        with pytest.raises(ChannelError, match="not supported here|does not understand"):
            channel_add(owner=user, name=scheme, url=url)
    assert not Channel.objects.exists()


def test_a_host_name_without_a_dot_or_not_resolving_yet_is_checked_at_save(user, sentinels, monkeypatch):
    with pytest.raises(ChannelError, match="private or local"):
        channel_add(owner=user, name="dotless", url="rsyslog://loghost:514/")

    def no_answer(host, *args, **kwargs):
        raise socket.gaierror("not yet")

    monkeypatch.setattr(netguard, "_resolve", no_answer)
    with pytest.raises(ChannelError, match="does not resolve"):
        channel_add(owner=user, name="later", url="rsyslog://not-yet-there:514/")
    assert not Channel.objects.exists()

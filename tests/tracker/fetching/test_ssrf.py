"""The fetch gate refuses every address a shop cannot be at, however it is spelled or reached.

No packet leaves loopback: the resolver is stubbed (`NetGuard`), a connect outside loopback
is refused and recorded (and fails the test), and refused URLs point at a loopback
`Sentinel` that counts connections, so a refused URL that got through would show up there.
"""

from __future__ import annotations

import ipaddress

import pytest

from tests.tracker.misbehaving_server import NetGuard, Sentinel, Shop, page, product_html, redirect
from tracker import fetching
from tracker.fetching import FetchError, address_refusal, fetch_page, safe_get, validate_url

RESOLVER = {
    "metadata.test": ["169.254.169.254"],
    "intranet.test": ["10.0.0.5"],
    "v6private.test": ["fd00::1"],
    "mixed.test": ["93.184.216.34", "10.1.2.3"],
    "mixed6.test": ["2606:4700::1", "fd00::2"],
    "cgnat.test": ["100.64.1.1"],
    "loop.test": ["127.0.0.1"],
    "zero.test": ["0.0.0.0"],
    "mapped.test": ["::ffff:10.0.0.1"],
    "nat64.test": ["64:ff9b::a9fe:a9fe"],
    "sixtofour.test": ["2002:a9fe:a9fe::1"],
    "teredo.test": ["2001:0:4136:e378:8000:63bf:3fff:fdd2"],
    "multicast.test": ["224.0.0.1"],
    "reserved.test": ["240.0.0.1"],
    "linklocal6.test": ["fe80::1"],
    "ula.test": ["fc00::1"],
    "shop.test": ["10.9.9.9"],
}


@pytest.fixture
def net(monkeypatch, settings):
    settings.FETCH_ALLOW_HOSTS = []
    settings.FETCH_DEADLINE = 5.0
    guard = NetGuard().install(monkeypatch)
    guard.answers.update(RESOLVER)
    yield guard
    assert guard.forbidden == [], f"a connection left loopback: {guard.forbidden}"


@pytest.fixture
def sentinel():
    s = Sentinel("127.0.0.1")
    yield s
    s.stop()


def refused_urls(p: int) -> list[str]:
    return [
        # loopback, however it is spelled
        f"http://127.0.0.1:{p}/",
        f"http://localhost:{p}/",
        f"http://2130706433:{p}/",
        f"http://0x7f.1:{p}/",
        f"http://017700000001:{p}/",
        f"http://127.1:{p}/",
        f"http://0177.0.0.1:{p}/",
        f"http://0x7f000001:{p}/",
        f"http://0x7f.0x0.0x0.0x1:{p}/",
        f"http://127.0.0.1.:{p}/",
        f"HTTP://127.0.0.1:{p}/",
        f"https://127.0.0.1:{p}/",
        f"http://[::1]:{p}/",
        f"http://[::ffff:127.0.0.1]:{p}/",
        f"http://[::ffff:7f00:1]:{p}/",
        f"http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/",
        f"http://0.0.0.0:{p}/",
        f"http://[::]:{p}/",
        f"http://0:{p}/",
        f"http://\u2460\u2461\u2466.\u24ea.\u24ea.\u2460:{p}/",  # circled digits, IDNA-maps to 127.0.0.1
        f"http://loop.test:{p}/",
        # private, link-local, CGNAT, special ranges, directly and through names
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.test/latest/meta-data/",
        f"http://intranet.test:{p}/",
        "http://v6private.test/",
        "http://mixed.test/",
        "http://mixed6.test/",
        "http://cgnat.test/",
        "http://100.64.0.1/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://linklocal6.test/",
        "http://ula.test/",
        "http://224.0.0.1/",
        "http://multicast.test/",
        "http://240.0.0.1/",
        "http://reserved.test/",
        "http://zero.test/",
        # IPv6 forms that embed IPv4
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://mapped.test/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://nat64.test/",
        "http://[2002:a9fe:a9fe::1]/",
        "http://sixtofour.test/",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
        "http://teredo.test/",
        # schemes, credentials, parser confusion
        "file:///etc/passwd",
        "ftp://shop.test/",
        f"gopher://127.0.0.1:{p}/",
        "http://user:pass@shop.test/",
        f"http://shop.test@127.0.0.1:{p}/",
        f"http://127.0.0.1:{p}\\@shop.test/",
        f"http://127.0.0.1:{p}%2f@shop.test/",
        f"http://shop.test#@127.0.0.1:{p}/",
        f"http://shop.test?@127.0.0.1:{p}/",
        f"http://127.0.0.1\t:{p}/",
        f"http:/127.0.0.1:{p}/",
        f"http://[::1%25lo]:{p}/",
        f"http://127.0.0.1:{p}:80/",
        f"http://127.0.0.1%2e:{p}/",
        "javascript:alert(1)",
    ]


def test_at_least_forty_refused_urls_are_listed():
    assert len(refused_urls(1)) >= 40


@pytest.mark.parametrize("index", range(len(refused_urls(1))))
def test_a_refused_address_is_never_connected_to(index, net, sentinel):
    url = refused_urls(sentinel.port)[index]
    with pytest.raises(FetchError) as caught:
        fetch_page(url)
    assert caught.value.kind in ("invalid", "refused"), (url, caught.value.kind, str(caught.value))
    assert sentinel.accepted == 0, f"{url} reached the sentinel"
    assert all(not ipaddress.ip_address(h.split("%")[0]).is_private or h.startswith("127.") for h, _ in net.connects)
    assert net.connects == [], f"{url} opened a connection: {net.connects}"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.1.1", "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1",
        "100.127.255.254", "0.0.0.0", "255.255.255.255", "224.0.0.251", "240.0.0.1", "198.18.0.1",
        "192.0.0.8", "192.0.2.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "64:ff9b::808:808", "2002:7f00:1::",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2", "fec0::1", "2001:db8::1", "::127.0.0.1",
    ],
)
def test_the_address_policy_refuses_non_public_addresses(address):
    assert address_refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450:4001::200e"])
def test_the_address_policy_lets_public_addresses_through(address):
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    ["http://shop.example/p/1", "https://www.shop.example:8443/a?b=c#d", "http://127.0.0.1:8001/", "http://[2606:4700::1]/x"],
)
def test_ordinary_addresses_pass_the_form_check(url):
    assert validate_url(url) == url


@pytest.fixture
def shop():
    server = Shop("127.0.0.2")
    yield server
    server.stop()


def test_an_allowed_host_is_fetched_and_its_redirects_to_refused_addresses_are_not(net, settings, shop, sentinel):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.2"]
    shop.routes["/ok"] = page(product_html("A kettle, brushed steel"))
    shop.routes["/to-loopback"] = redirect(f"http://127.0.0.1:{sentinel.port}/")
    shop.routes["/to-decimal"] = redirect(f"http://2130706433:{sentinel.port}/")
    shop.routes["/to-metadata"] = redirect("http://metadata.test/latest/meta-data/")
    shop.routes["/to-file"] = redirect("file:///etc/passwd")
    shop.routes["/to-mapped"] = redirect(f"http://[::ffff:127.0.0.1]:{sentinel.port}/")
    shop.routes["/relative-ok"] = redirect("/ok", status=301)

    assert "kettle" in fetch_page(shop.url("/ok")).text
    result = fetch_page(shop.url("/relative-ok"))
    assert result.final_url == shop.url("/ok") and result.redirects == [shop.url("/ok")]
    for path in ("/to-loopback", "/to-decimal", "/to-metadata", "/to-file", "/to-mapped"):
        with pytest.raises(FetchError) as caught:
            fetch_page(shop.url(path))
        assert caught.value.kind == "refused", path
    assert sentinel.accepted == 0


def test_more_than_five_redirects_are_refused_and_five_are_followed(net, settings, shop):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.2"]
    shop.routes["/end"] = page(product_html("The end of the chain"))
    for i in range(7):
        shop.routes[f"/r{i}"] = redirect(f"/r{i + 1}" if i < 6 else "/end")
    assert fetch_page(shop.url("/r2")).final_url == shop.url("/end")  # r2..r6 then end: 5 hops
    with pytest.raises(FetchError) as caught:
        fetch_page(shop.url("/r1"))  # 6 hops
    assert caught.value.kind == "redirects"


def test_a_redirect_loop_is_refused(net, settings, shop):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.2"]
    shop.routes["/a"] = redirect("/b")
    shop.routes["/b"] = redirect("/a")
    with pytest.raises(FetchError) as caught:
        fetch_page(shop.url("/a"))
    assert caught.value.kind == "redirects"
    assert len(shop.requests) <= 6


def test_an_answer_that_changes_between_lookups_is_looked_up_once_and_pinned(net, settings, shop):
    """DNS rebinding: the name answers an allowed address, then a refused one."""
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.2"]
    trap = Sentinel("127.0.0.3", shop.port)
    try:
        shop.routes["/p"] = page(product_html("A rebinding test page"))
        net.answers["rebind.test"] = [["127.0.0.2"], ["127.0.0.3"]]
        result = fetch_page(f"http://rebind.test:{shop.port}/p")
        assert result.status == 200
        assert net.lookups["rebind.test"] == 1, "one lookup per connection, no second check-then-connect"
        assert shop.requests[-1][1]["Host"] == f"rebind.test:{shop.port}"
        with pytest.raises(FetchError) as caught:
            safe_get(f"http://rebind.test:{shop.port}/p")  # the next lookup answers 127.0.0.3
        assert caught.value.kind == "refused"
        assert trap.accepted == 0
    finally:
        trap.stop()


def test_a_mixed_answer_is_refused_before_any_connection(net, settings, shop):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.2"]
    shop.routes["/p"] = page("<html><body>x</body></html>")
    net.answers["half.test"] = ["127.0.0.2", "10.0.0.7"]
    with pytest.raises(FetchError) as caught:
        fetch_page(f"http://half.test:{shop.port}/p")
    assert caught.value.kind == "refused" and "10.0.0.7" in str(caught.value)
    assert shop.requests == [] and net.connects == []


def test_the_socket_must_end_up_at_the_checked_address(net, settings, shop):
    """Whatever happens below the resolver, the peer of the socket is compared with the checked IP."""
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.2"]
    trap = Sentinel("127.0.0.3", shop.port)
    try:
        shop.routes["/p"] = page("<html><body>x</body></html>")
        net.divert[("127.0.0.2", shop.port)] = ("127.0.0.3", shop.port)
        with pytest.raises(FetchError) as caught:
            fetch_page(shop.url("/p"))
        assert caught.value.kind == "refused"
        assert shop.requests == []
    finally:
        trap.stop()


def test_allowing_a_network_by_cidr_and_a_host_by_name(net, settings, shop, sentinel):
    shop.routes["/p"] = page(product_html("Allowed by configuration"))
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.0/30"]
    assert fetch_page(shop.url("/p")).status == 200
    settings.FETCH_ALLOW_HOSTS = ["demoshop.test"]
    net.answers["demoshop.test"] = ["127.0.0.2"]
    assert fetch_page(f"http://demoshop.test:{shop.port}/p").status == 200
    with pytest.raises(FetchError):
        fetch_page(shop.url("/p"))  # the address itself is not allowed


def test_the_gate_session_for_other_callers_refuses_private_addresses(net, sentinel):
    session = fetching.gate_session()
    with pytest.raises(fetching.GateRefused):
        session.get(f"http://127.0.0.1:{sentinel.port}/", timeout=2)
    with pytest.raises(fetching.GateRefused):
        session.post("http://metadata.test/hook", json={"a": 1}, timeout=2)
    assert sentinel.accepted == 0


def test_proxy_settings_from_the_environment_are_ignored(net, monkeypatch, settings, shop):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.2"]
    trap = Sentinel("127.0.0.4")
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.4:{trap.port}")
        monkeypatch.setenv("http_proxy", f"http://127.0.0.4:{trap.port}")
        shop.routes["/p"] = page(product_html("Direct, not through a proxy"))
        assert fetch_page(shop.url("/p")).status == 200
        assert trap.accepted == 0
    finally:
        trap.stop()

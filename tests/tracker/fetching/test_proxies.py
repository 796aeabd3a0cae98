"""Proxies for shops that block us: per store and a default, for fetches and the browser alike.

Every proxy here is a loopback server started by the test (tests/tracker/proxy_servers.py) that
records what it was asked; the resolver is stubbed and connects outside loopback are refused
(`NetGuard`), so a target the gate refuses is shown to reach neither the proxy nor the network.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.urls import reverse

from tests.tracker.misbehaving_server import NetGuard, Shop, TLSShop, drip_headers, page, product_html
from tests.tracker.proxy_servers import HTTPProxy, Socks5Proxy, TLSHTTPProxy, dead_port, self_signed
from tracker import checking, services
from tracker.fetching import FetchError, fetch_page
from tracker.fetching.proxies import (
    proxy_mask,
    proxy_redact,
    proxy_url_validate,
    store_proxy,
    store_proxy_set,
)
from tracker.models import CheckLog, Listing, Store

USER, PASSWORD = "shopper", "Pr0xyS3cret!"


@pytest.fixture
def net(monkeypatch, settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    settings.FETCH_DEADLINE = 10.0
    settings.FETCH_PROXY_URL = ""
    guard = NetGuard().install(monkeypatch)
    guard.answers.update({"intranet.test": ["10.0.0.5"], "loop.test": ["127.0.0.1"]})
    yield guard
    assert guard.forbidden == [], f"a connection left loopback: {guard.forbidden}"


@pytest.fixture
def shop(net):
    server = Shop("127.0.0.1")
    server.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    yield server
    server.stop()


@pytest.fixture
def http_proxy():
    server = HTTPProxy(credentials=(USER, PASSWORD))
    yield server
    server.stop()


@pytest.fixture
def socks_proxy():
    server = Socks5Proxy(credentials=(USER, PASSWORD))
    yield server
    server.stop()


def _listing(user, shop, path: str = "/kettle") -> Listing:
    return services.listing_add(owner=user, url=shop.url(path))


def _check(listing: Listing) -> CheckLog:
    return checking.listing_check(check_id=checking.check_create(listing=listing).pk).check


# --- Through the proxy, or not ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_store_with_an_http_proxy_is_fetched_through_it_with_the_credentials(shop, http_proxy, user):
    listing = _listing(user, shop)
    store_proxy_set(store=listing.store, url=http_proxy.url(f"{USER}:{PASSWORD}"))

    check = _check(listing)

    assert check.outcome == CheckLog.Outcome.OK, check.error
    assert str(Listing.objects.get(pk=listing.pk).last_price) == "49.90"
    targets = [seen["target"] for seen in http_proxy.seen]
    assert shop.url("/robots.txt") in targets and shop.url("/kettle") in targets  # robots.txt too
    assert all((seen["user"], seen["password"]) == (USER, PASSWORD) for seen in http_proxy.seen)
    assert all("Proxy-Authorization" not in headers for _, headers in shop.requests), "credentials reached the shop"


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_a_store_with_a_socks5_proxy_is_fetched_through_it_and_asks_for_the_checked_address(shop, socks_proxy, user, scheme):
    listing = _listing(user, shop)
    store_proxy_set(store=listing.store, url=socks_proxy.url(f"{USER}:{PASSWORD}", scheme=scheme))

    check = _check(listing)

    assert check.outcome == CheckLog.Outcome.OK, check.error
    assert {"/robots.txt", "/kettle"} <= set(shop.paths())
    # One connection per request: every request the shop saw came through the proxy.
    assert len(socks_proxy.seen) == len(shop.requests)
    assert all(seen["target"] == f"127.0.0.1:{shop.port}" for seen in socks_proxy.seen)
    assert all((seen["user"], seen["password"]) == (USER, PASSWORD) for seen in socks_proxy.seen)


@pytest.mark.django_db
def test_a_store_without_a_proxy_goes_direct(shop, http_proxy, socks_proxy, user):
    check = _check(_listing(user, shop))

    assert check.outcome == CheckLog.Outcome.OK, check.error
    assert http_proxy.seen == [] and socks_proxy.seen == []
    assert "/kettle" in shop.paths()


@pytest.mark.django_db
def test_the_default_proxy_serves_stores_without_their_own_unless_one_is_set_direct(shop, socks_proxy, user, settings):
    settings.FETCH_PROXY_URL = socks_proxy.url(f"{USER}:{PASSWORD}")
    other = Shop("127.0.0.1")
    other.routes["/kettle"] = page(product_html("Steel kettle", price="29.00"))
    try:
        through = _listing(user, shop)
        direct = _listing(user, other)
        Store.objects.filter(pk=direct.store_id).update(proxy_direct=True)

        assert _check(through).outcome == CheckLog.Outcome.OK
        assert _check(Listing.objects.get(pk=direct.pk)).outcome == CheckLog.Outcome.OK
    finally:
        other.stop()

    targets = {seen["target"] for seen in socks_proxy.seen}
    assert targets == {f"127.0.0.1:{shop.port}"}, "the store set direct went through the default proxy"
    assert len(socks_proxy.seen) == len(shop.requests) >= 2  # robots.txt and the page
    assert "/kettle" in other.paths()


@pytest.mark.django_db
def test_a_store_s_own_proxy_wins_over_the_default(shop, http_proxy, socks_proxy, user, settings):
    settings.FETCH_PROXY_URL = socks_proxy.url(f"{USER}:{PASSWORD}")
    listing = _listing(user, shop)
    store_proxy_set(store=listing.store, url=http_proxy.url(f"{USER}:{PASSWORD}"))

    assert _check(listing).outcome == CheckLog.Outcome.OK
    assert shop.url("/kettle") in [seen["target"] for seen in http_proxy.seen] and socks_proxy.seen == []


# --- Credentials ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_proxy_is_stored_encrypted_and_read_back(user):
    store = Store.objects.create(domain="shop.test")
    url = f"socks5h://{USER}:{PASSWORD}@10.1.2.3:1080"
    store_proxy_set(store=store, url=url)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Store._meta.db_table} WHERE id = %s", [store.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert PASSWORD not in row and USER not in row and "10.1.2.3" not in row
    assert store_proxy(Store.objects.get(pk=store.pk)) == url


@pytest.mark.django_db
def test_a_proxy_the_key_cannot_read_is_an_error_not_a_direct_fetch(settings):
    settings.CHANNEL_ENCRYPTION_KEY = "old-key"
    store = Store.objects.create(domain="shop.test")
    store_proxy_set(store=store, url="http://10.1.2.3:3128")
    settings.CHANNEL_ENCRYPTION_KEY = "new-key"

    with pytest.raises(FetchError) as caught:
        store_proxy(Store.objects.get(pk=store.pk))
    assert caught.value.kind == "proxy" and "set it again" in str(caught.value)


def test_wrong_credentials_say_the_proxy_refused_them(shop, http_proxy, socks_proxy):
    for proxy in (http_proxy.url(f"{USER}:wrong-password"), socks_proxy.url(f"{USER}:wrong-password")):
        with pytest.raises(FetchError) as caught:
            fetch_page(shop.url("/kettle"), proxy=proxy)
        assert caught.value.kind == "proxy", str(caught.value)
        assert proxy_mask(proxy) in str(caught.value) and "wrong-password" not in str(caught.value)
    assert "/kettle" not in shop.paths()


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["http", "socks5h"])
def test_a_dead_proxy_gives_a_clear_check_error_without_the_password(shop, user, scheme):
    listing = _listing(user, shop)
    Store.objects.filter(pk=listing.store_id).update(respect_robots=False)
    url = f"{scheme}://{USER}:{PASSWORD}@127.0.0.1:{dead_port()}"
    store_proxy_set(store=listing.store, url=url)

    check = _check(Listing.objects.get(pk=listing.pk))

    assert check.outcome == CheckLog.Outcome.ERROR
    assert f"the proxy {proxy_mask(url)} could not be reached" in check.error, check.error
    assert PASSWORD not in check.error and USER not in check.error
    assert shop.paths() == [], "the check went direct when its proxy was down"


# --- The address policy applies to the page, whatever the proxy -----------------------------------


@pytest.mark.parametrize("kind", ["http", "socks5", "socks5h"])
def test_a_refused_target_is_refused_before_the_proxy_is_asked(net, shop, http_proxy, socks_proxy, settings, kind):
    proxy = http_proxy.url(f"{USER}:{PASSWORD}") if kind == "http" else socks_proxy.url(f"{USER}:{PASSWORD}", scheme=kind)
    targets = [
        "http://intranet.test/",  # a name resolving to a private address
        "https://intranet.test/",
        "http://10.0.0.5/",
        "http://169.254.169.254/latest/meta-data/",
        f"http://loop.test:{shop.port}/kettle",  # loopback through a name: not on the allow-list
    ]
    settings.FETCH_ALLOW_HOSTS = []
    for target in [*targets, shop.url("/kettle")]:
        with pytest.raises(FetchError) as caught:
            fetch_page(target, proxy=proxy)
        assert caught.value.kind == "refused", (target, str(caught.value))
    assert http_proxy.seen == [] and socks_proxy.seen == []
    assert shop.paths() == []
    assert net.lookups.get("intranet.test")  # it was resolved here, then refused


def test_a_redirect_to_a_refused_address_is_refused_through_the_proxy(shop, socks_proxy):
    shop.routes["/moved"] = page("", status=302, Location="http://intranet.test/admin")
    with pytest.raises(FetchError) as caught:
        fetch_page(shop.url("/moved"), proxy=socks_proxy.url(f"{USER}:{PASSWORD}"))
    assert caught.value.kind == "refused"
    assert [seen["target"] for seen in socks_proxy.seen] == [f"127.0.0.1:{shop.port}"]


# --- The proxy URL ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://10.0.0.2:21",
        "socks4://10.0.0.2:1080",
        "10.0.0.2:3128",
        "http://10.0.0.2",  # no port
        "http://:3128",
        "http://10.0.0.2:99999",
        "http://10.0.0.2:3128/path",
        "http://user:pass word@10.0.0.2:3128",
    ],
)
def test_an_unusable_proxy_url_is_refused_without_repeating_it(url):
    with pytest.raises(ValueError) as caught:
        proxy_url_validate(url)
    assert url not in str(caught.value)


def test_the_mask_and_redaction_keep_the_host_and_drop_the_credentials():
    url = f"socks5h://{USER}:{PASSWORD}@10.0.0.2:1080"
    assert proxy_mask(url) == "socks5h://****@10.0.0.2:1080"
    assert proxy_mask("http://10.0.0.2:3128") == "http://10.0.0.2:3128"
    text = proxy_redact(f"failed via {url}: user {USER} password {PASSWORD}", url)
    assert USER not in text and PASSWORD not in text and "10.0.0.2" not in text.replace("****", "")


@pytest.mark.django_db
def test_an_unusable_default_proxy_is_a_check_error_not_a_direct_fetch(shop, user, settings):
    settings.FETCH_PROXY_URL = f"socks4://{USER}:{PASSWORD}@127.0.0.1:1080"
    listing = _listing(user, shop)
    Store.objects.filter(pk=listing.store_id).update(respect_robots=False)

    check = _check(Listing.objects.get(pk=listing.pk))

    assert check.outcome == CheckLog.Outcome.ERROR and "FETCH_PROXY_URL" in check.error
    assert PASSWORD not in check.error
    assert shop.paths() == []


# --- Staff and the UI ---------------------------------------------------------------------------


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("staff", "staff@example.test", "pw")


def _admin_post(client, store: Store, **changes):
    data = {k: ("" if v is None else v) for k, v in model_to_dict(store, exclude=["proxy_url_encrypted"]).items()}
    data["circuit_failing"] = "[]"
    data.update(changes)
    for flag in ("respect_robots", "render_js", "proxy_direct", "proxy_remove"):
        if not data.get(flag):
            data.pop(flag, None)
    return client.post(reverse("admin:tracker_store_change", args=[store.pk]), data)


@pytest.mark.django_db
def test_staff_set_a_store_s_proxy_in_the_admin_and_never_see_the_password_again(client, staff):
    store = Store.objects.create(domain="shop.test")
    client.force_login(staff)
    url = f"http://{USER}:{PASSWORD}@10.0.0.2:3128"

    refused = _admin_post(client, store, proxy=f"ftp://{USER}:{PASSWORD}@10.0.0.2:21")
    assert refused.status_code == 200 and "must start with http://" in refused.content.decode()
    assert PASSWORD not in refused.content.decode()  # not even what was just typed
    assert Store.objects.get(pk=store.pk).proxy_url_encrypted == ""

    assert _admin_post(client, store, proxy=url).status_code == 302
    store.refresh_from_db()
    assert store_proxy(store) == url and PASSWORD not in store.proxy_url_encrypted

    shown = client.get(reverse("admin:tracker_store_change", args=[store.pk])).content.decode()
    listed = client.get(reverse("admin:tracker_store_changelist")).content.decode()
    for html in (shown, listed):
        assert "http://****@10.0.0.2:3128" in html and PASSWORD not in html and USER not in html

    assert _admin_post(client, store).status_code == 302  # saving without a new proxy keeps it
    assert store_proxy(Store.objects.get(pk=store.pk)) == url
    assert _admin_post(client, store, proxy_remove="on").status_code == 302
    assert Store.objects.get(pk=store.pk).proxy_url_encrypted == ""


@pytest.mark.django_db
def test_the_product_page_shows_which_stores_go_through_a_proxy(client, user, settings, net):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    product = services.listing_add(owner=user, url="http://127.0.0.1:9/a").product
    other = services.listing_add(owner=user, url="http://127.0.0.1:10/b", product=product)
    store_proxy_set(store=other.store, url="socks5://10.0.0.2:1080")
    client.force_login(user)

    html = client.get(product.get_absolute_url()).content.decode()
    assert html.count("Through a proxy") == 1
    assert "10.0.0.2" not in html

    settings.FETCH_PROXY_URL = "http://10.0.0.3:3128"
    assert client.get(product.get_absolute_url()).content.decode().count("Through a proxy") == 2


# --- The browser ----------------------------------------------------------------------------------

SPA = """<!doctype html><html><head><title>Aurora espresso machine</title>
<script src="/app.js"></script></head><body><div id="root">Loading…</div></body></html>"""
APP_JS = """fetch('/api/product').then(r => r.json()).then(d => {
  document.getElementById('root').innerHTML = '<h1>' + d.name + '</h1><p class="price">' + d.price + ' EUR</p>';
});"""


@pytest.mark.browser
@pytest.mark.django_db
@pytest.mark.skipif(not Path("/usr/bin/chromium").is_file(), reason="headless Chromium not installed at /usr/bin/chromium")
def test_a_store_rendered_in_the_browser_goes_through_its_socks5_proxy_with_a_password(shop, socks_proxy, user, settings):
    from tracker.fetching import rendering

    settings.FETCH_DEADLINE = 20.0
    shop.routes["/p/espresso"] = page(SPA)
    shop.routes["/app.js"] = page(APP_JS, "application/javascript")
    shop.routes["/api/product"] = page('{"name": "Aurora espresso machine", "price": "349.00"}', "application/json")
    listing = _listing(user, shop, "/p/espresso")
    Store.objects.filter(pk=listing.store_id).update(render_js=True, respect_robots=False)
    store_proxy_set(store=listing.store, url=socks_proxy.url(f"{USER}:{PASSWORD}"))
    try:
        check = _check(Listing.objects.get(pk=listing.pk))
    finally:
        rendering._pool.close()

    assert check.outcome == CheckLog.Outcome.OK, check.error
    assert str(Listing.objects.get(pk=listing.pk).last_price) == "349.00"
    assert len(socks_proxy.seen) >= 3, "a request of the rendered page did not go through the proxy"
    assert {"/p/espresso", "/app.js", "/api/product"} <= set(shop.paths())


def test_a_shop_that_is_down_behind_a_working_proxy_is_not_blamed_on_the_proxy(net, socks_proxy):
    with pytest.raises(FetchError) as caught:
        fetch_page(f"http://127.0.0.1:{dead_port()}/kettle", proxy=socks_proxy.url(f"{USER}:{PASSWORD}"))
    assert "could not reach the shop through the proxy" in str(caught.value)
    assert caught.value.transient


@pytest.fixture
def tls_shop(net, tmp_path, monkeypatch):
    from tracker.fetching.gate import thread_session

    cert, key = self_signed(tmp_path, "shop.test")
    net.answers["shop.test"] = ["127.0.0.1"]
    monkeypatch.setattr(thread_session(), "verify", cert)
    server = TLSShop(cert, key)
    server.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    yield server
    server.stop()


@pytest.mark.parametrize("kind", ["http", "socks5h"])
def test_an_https_page_through_a_proxy_is_asked_for_by_its_checked_address_and_verified_by_name(tls_shop, http_proxy, socks_proxy, kind):
    proxy = http_proxy.url(f"{USER}:{PASSWORD}") if kind == "http" else socks_proxy.url(f"{USER}:{PASSWORD}")

    result = fetch_page(f"https://shop.test:{tls_shop.port}/kettle", proxy=proxy)

    assert "Copper kettle" in result.text
    seen = (http_proxy.seen or socks_proxy.seen)[0]
    # The proxy is handed the address the gate checked, not the name to resolve again; the
    # certificate is still checked against the name.
    assert seen["target"] == f"127.0.0.1:{tls_shop.port}"
    assert seen.get("method", "CONNECT") == "CONNECT"
    assert tls_shop.requests[0][1]["Host"] == f"shop.test:{tls_shop.port}"


def test_an_https_proxy_is_reached_over_tls_for_http_and_https_pages(tls_shop, shop, tmp_path, monkeypatch):
    from tracker.fetching.gate import thread_session

    cert, key = self_signed(tmp_path, "127.0.0.1")
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(Path(cert).read_text() + Path(thread_session().verify).read_text())
    monkeypatch.setattr(thread_session(), "verify", str(bundle))
    proxy = TLSHTTPProxy(cert, key, credentials=(USER, PASSWORD))
    try:
        plain = fetch_page(shop.url("/kettle"), proxy=proxy.url(f"{USER}:{PASSWORD}"))
        secure = fetch_page(f"https://shop.test:{tls_shop.port}/kettle", proxy=proxy.url(f"{USER}:{PASSWORD}"))
    finally:
        proxy.stop()

    assert "Copper kettle" in plain.text and "Copper kettle" in secure.text
    assert [seen["target"] for seen in proxy.seen] == [shop.url("/kettle"), f"127.0.0.1:{tls_shop.port}"]


def test_an_https_proxy_with_a_certificate_nobody_trusts_is_refused_for_http_pages_too(tls_shop, shop, tmp_path, monkeypatch):
    from tracker.fetching.gate import thread_session

    monkeypatch.setattr(thread_session(), "verify", True)  # the usual CA bundle: it does not know the proxy
    cert, key = self_signed(tmp_path, "127.0.0.1")
    proxy = TLSHTTPProxy(cert, key, credentials=(USER, PASSWORD))
    try:
        for target in (shop.url("/kettle"), f"https://shop.test:{tls_shop.port}/kettle"):
            with pytest.raises(FetchError) as caught:
                fetch_page(target, proxy=proxy.url(f"{USER}:{PASSWORD}"))
            assert caught.value.kind == "proxy" and "CERTIFICATE_VERIFY_FAILED" in str(caught.value), str(caught.value)
    finally:
        proxy.stop()
    assert proxy.seen == [], "the proxy's password went over an unverified connection"


@pytest.mark.parametrize("kind", ["http", "socks5h"])
def test_a_shop_dripping_its_headers_behind_a_proxy_is_cut_off_at_the_deadline(shop, http_proxy, socks_proxy, settings, kind):
    settings.FETCH_DEADLINE = 2.0
    shop.routes["/drip"] = drip_headers(interval=0.1, total_seconds=20)
    proxy = http_proxy.url(f"{USER}:{PASSWORD}") if kind == "http" else socks_proxy.url(f"{USER}:{PASSWORD}")
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch_page(shop.url("/drip"), proxy=proxy)
    assert caught.value.kind == "timeout" and caught.value.transient
    assert time.monotonic() - started < 15, "the download through the proxy was not cut off"

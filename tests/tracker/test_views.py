"""The web UI through Django's test client: login, isolation between people, adding, editing."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from tracker.models import CheckLog, Listing, PricePoint, Priority, Product, Store

pytestmark = pytest.mark.django_db

PRODUCT_PAGE = """<!doctype html><html><head><title>Trail Kettle</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product",
"name": "Trail Kettle 1L", "offers": {"@type": "Offer", "price": "39.90", "priceCurrency": "EUR",
"availability": "https://schema.org/InStock"}}</script></head><body><h1>Trail Kettle 1L</h1></body></html>"""


class _ShopHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/kettle":
            body, status = PRODUCT_PAGE.encode(), 200
        else:
            body, status = b"<html><body>Not here</body></html>", 404
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Before the `user` fixture: the default PBKDF2 costs about a second per user here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_name_resolves(monkeypatch):
    """The add form checks a page before keeping it: no test here may send a DNS query.
    IP literals resolve as usual (no packet); any host name fails as an unknown name."""
    import ipaddress
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        try:
            ipaddress.ip_address(str(host).strip("[]"))
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: no such name (tests resolve no names)") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr("tracker.fetching.addresses.socket.getaddrinfo", getaddrinfo)


@pytest.fixture
def shop():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ShopHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def eager(settings):
    # Read before the settings change: Celery's conf may load them lazily, and keeping True
    # here would leave every later test of the run eager.
    previous = celery_app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def make_listing(owner, *, name="Kettle", url="http://shop.test/kettle", prices=(), currency="EUR", **fields):
    product = Product.objects.create(owner=owner, name=name)
    store, _ = Store.objects.get_or_create(domain=url.split("/")[2], defaults={"name": url.split("/")[2]})
    listing = Listing.objects.create(product=product, store=store, url=url, currency=currency, **fields)
    add_prices(listing, prices)
    return listing


def add_prices(listing, prices, *, start=None, step=timedelta(hours=6)):
    moment = start or timezone.now() - step * len(prices)
    for price in prices:
        check = CheckLog.objects.create(
            listing=listing, outcome=CheckLog.Outcome.OK, finished_at=moment, http_status=200,
            duration_ms=12, method="json-ld",
        )
        PricePoint.objects.create(
            listing=listing, check_log=check, price=Decimal(price), currency=listing.currency,
            checked_at=moment, method="json-ld",
        )
        moment += step
    if prices:
        Listing.objects.filter(pk=listing.pk).update(
            last_price=Decimal(prices[-1]), status=Listing.Status.OK, last_checked_at=moment
        )
        listing.refresh_from_db()


# --- Login and isolation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("tracker:dashboard", []),
        ("tracker:product", [1]),
        ("tracker:listing_status", [1]),
        ("tracker:product_delete", [1]),
        ("tracker:listing_delete", [1]),
    ],
)
def test_every_page_sends_anonymous_visitors_to_the_login_page(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_post_adds_nothing(client):
    client.post(reverse("tracker:dashboard"), {"url": "http://shop.test/x", "priority": "normal"})
    assert Product.objects.count() == 0


def test_the_login_page_logs_a_person_in(client, user):
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b'name="password"' in page.content
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice-123"})
    assert response.status_code == 302
    assert client.get(reverse("tracker:dashboard")).status_code == 200


def test_a_person_sees_only_their_own_products(logged_in, user, other_user):
    make_listing(user, name="Alice's kettle", url="http://shop.test/a")
    make_listing(other_user, name="Bob's bike", url="http://shop.test/b")
    page = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "Alice&#x27;s kettle" in page
    assert "Bob" not in page


def test_someone_elses_product_and_listing_are_not_found(logged_in, other_user):
    theirs = make_listing(other_user, url="http://shop.test/b", prices=["10"])
    product = theirs.product
    for method, name, obj in [
        ("get", "tracker:product", product),
        ("post", "tracker:product_rename", product),
        ("post", "tracker:product_pause", product),
        ("get", "tracker:product_delete", product),
        ("post", "tracker:product_delete", product),
        ("post", "tracker:product_add_listing", product),
        ("get", "tracker:listing_status", theirs),
        ("post", "tracker:listing_priority", theirs),
        ("post", "tracker:listing_pause", theirs),
        ("post", "tracker:listing_check_now", theirs),
        ("post", "tracker:listing_delete", theirs),
    ]:
        response = getattr(logged_in, method)(
            reverse(name, args=[obj.pk]), {"name": "mine now", "paused": "1", "priority": "high",
                                            "url": "http://shop.test/c"}
        )
        assert response.status_code == 404, name
    theirs.refresh_from_db()
    assert Product.objects.filter(pk=product.pk, name="Kettle").exists()
    assert (theirs.paused, theirs.priority) == (False, Priority.NORMAL)
    assert theirs.checks.filter(outcome=CheckLog.Outcome.QUEUED).count() == 0
    assert product.listings.count() == 1


# --- Adding a product -----------------------------------------------------------------------


def test_adding_a_url_checks_it_first_and_keeps_it_with_its_price(logged_in, user, shop, settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    response = logged_in.post(
        reverse("tracker:dashboard"),
        {"url": f"  {shop}/kettle  ", "name": "My kettle", "priority": "high"},
    )
    product = Product.objects.get(owner=user)
    listing = product.listings.get()
    assert response.status_code == 302 and response["Location"] == product.get_absolute_url()
    assert (product.name, listing.url, listing.priority) == ("My kettle", f"{shop}/kettle", "high")
    assert listing.checks.get().outcome == CheckLog.Outcome.OK  # checked before the answer came
    assert listing.last_price == Decimal("39.90")
    page = logged_in.get(response["Location"]).content.decode()
    assert "€39.90" in page and "status.js" not in page


def test_a_check_on_its_way_shows_progress_on_the_product_page_and_the_dashboard(logged_in, user):
    listing = make_listing(user, url="https://shop.test/kettle")
    logged_in.post(reverse("tracker:listing_check_now", args=[listing.pk]))
    assert listing.checks.get().outcome == CheckLog.Outcome.QUEUED
    page = logged_in.get(listing.product.get_absolute_url()).content.decode()
    assert "Checking shop.test" in page
    assert reverse("tracker:listing_status", args=[listing.pk]) in page
    assert "pricetracker/status.js" in page
    dashboard = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "Checking…" in dashboard  # the dashboard reloads too when the check is done
    assert reverse("tracker:listing_status", args=[listing.pk]) in dashboard and "status.js" in dashboard


def test_the_first_check_runs_right_away_and_its_price_shows(logged_in, user, shop, eager,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(reverse("tracker:dashboard"), {"url": f"{shop}/kettle", "priority": "normal"})
    listing = Listing.objects.get(product__owner=user)
    assert listing.status == Listing.Status.OK
    assert listing.last_price == Decimal("39.90")
    page = logged_in.get(response["Location"]).content.decode()
    assert "€39.90" in page
    assert "Trail Kettle 1L" in page  # the page's title named the product
    assert 'class="series"' in page  # a drawn price line
    assert "status.js" not in page  # nothing left to wait for
    dashboard = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "€39.90" in dashboard


def test_a_failed_first_check_keeps_nothing_and_says_why(logged_in, user, shop, eager):
    response = logged_in.post(reverse("tracker:dashboard"), {"url": f"{shop}/gone", "priority": "normal"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "This page was not added" in page
    assert "does not exist (HTTP 404)" in page
    assert "<details" in page and "HTTP 404" in page.split("<details", 1)[1]  # the detail, folded
    assert Product.objects.count() == Listing.objects.count() == CheckLog.objects.count() == 0
    assert Store.objects.count() == 0  # the store made for it went too


def test_keep_trying_keeps_the_page_marked_with_the_reason(logged_in, user, shop, eager):
    response = logged_in.post(
        reverse("tracker:dashboard"), {"url": f"{shop}/gone", "priority": "low", "keep": "1"}
    )
    listing = Listing.objects.get(product__owner=user)
    assert response.status_code == 302 and response["Location"] == listing.product.get_absolute_url()
    assert listing.status == Listing.Status.ERROR and listing.priority == "low"
    assert not PricePoint.objects.exists()
    page = logged_in.get(response["Location"]).content.decode()
    assert "HTTP 404" in page
    dashboard = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "HTTP 404" in dashboard and "Fetch error" in dashboard


@pytest.fixture
def demo_shop():
    from demoshop.server import start_in_thread

    shop = start_in_thread(host="127.0.0.1", port=0)
    yield shop
    shop.stop()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "path,status,plain,technical",
    [
        ("/downloads/price-list.pdf", Listing.Status.ERROR, "a file (a PDF", "not a web page"),
        ("/info/shipping", Listing.Status.NO_PRICE, "shows no price we can read", "No price found"),
        ("/product/no-such-thing", Listing.Status.ERROR, "does not exist (HTTP 404)", "the shop answered HTTP 404"),
        (None, Listing.Status.ERROR, "could not be reached", "could not reach the shop"),
        ("unknown-name", Listing.Status.ERROR, "No site answers to this name", "could not reach the shop"),
    ],
)
def test_a_page_that_gives_no_price_is_refused_in_plain_words_unless_kept(
    logged_in, user, demo_shop, eager, settings, django_capture_on_commit_callbacks, path, status, plain, technical
):
    settings.FETCH_RESPECT_ROBOTS = False
    if path == "unknown-name":
        url = "http://shop.invalid-name.test/product/x"  # resolution is stubbed to fail: no DNS query
    else:
        url = f"{demo_shop.url}{path}" if path else f"http://127.0.0.1:{_closed_port()}/product/x"
    with django_capture_on_commit_callbacks(execute=True):
        refused = logged_in.post(reverse("tracker:dashboard"), {"url": url, "priority": "normal"})
    page = refused.content.decode()
    assert refused.status_code == 200 and plain in page
    reason_box = page.split('role="alert"', 1)[1].split("</p>", 1)[0]
    assert plain in reason_box and technical not in reason_box  # plain words first
    assert technical in page.split("<details", 1)[1]  # the developer's detail behind the toggle
    assert 'name="keep" value="1"' in page and ">Keep trying<" in page and ">Discard<" in page
    assert Product.objects.count() == Listing.objects.count() == 0
    assert not PricePoint.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(reverse("tracker:dashboard"), {"url": url, "priority": "normal", "keep": "1"})
    assert response.status_code == 302
    listing = Listing.objects.get(product__owner=user)
    assert listing.status == status and listing.last_price is None
    assert not PricePoint.objects.exists()
    page = logged_in.get(response["Location"]).content.decode()
    assert technical in page
    assert 'role="alert"' in page  # the reason box
    assert technical in logged_in.get(reverse("tracker:dashboard")).content.decode()


def test_an_over_long_url_is_refused_never_cut(logged_in, user, shop, settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    short = f"{shop}/kettle?ref=" + "a" * (2000 - len(f"{shop}/kettle?ref="))
    make_listing(user, name="Kettle", url=short)
    long_url = short + "b" * 3000  # its first 2,000 characters are the page above
    form = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "maxlength" not in form.split('id="id_url"', 1)[0].rsplit("<input", 1)[1]  # a paste is not cut
    response = logged_in.post(reverse("tracker:dashboard"), {"url": long_url, "priority": "normal"})
    assert response.status_code == 400
    assert "5,000 characters long; at most 2,000" in response.content.decode()
    assert Listing.objects.count() == 1 and CheckLog.objects.count() == 0


@pytest.mark.parametrize(
    "url,message",
    [
        ("not-a-url", "This address cannot be tracked"),
        ("ftp://shop.test/kettle", "only http:// and https://"),
        ("http://", "This address cannot be tracked"),
        ("http://user:pw@shop.test/kettle", "user name or password"),
        ("", "This field is required"),
    ],
)
def test_bad_urls_get_a_clear_error_and_create_nothing(logged_in, url, message):
    response = logged_in.post(reverse("tracker:dashboard"), {"url": url, "priority": "normal"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Product.objects.count() == Listing.objects.count() == CheckLog.objects.count() == 0


def test_a_url_already_tracked_is_refused_with_the_product_named(logged_in, user):
    make_listing(user, name="Kettle one", url="https://shop.test/kettle")
    response = logged_in.post(reverse("tracker:dashboard"), {"url": "https://shop.test/kettle", "priority": "normal"})
    assert response.status_code == 400
    assert "already track this page" in response.content.decode()
    assert Product.objects.count() == 1 and CheckLog.objects.count() == 0


def test_another_persons_url_can_be_tracked_too(logged_in, user, other_user, shop, settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    make_listing(other_user, url=f"{shop}/kettle")
    response = logged_in.post(reverse("tracker:dashboard"), {"url": f"{shop}/kettle", "priority": "normal"})
    assert response.status_code == 302
    assert Product.objects.filter(owner=user).count() == 1


def test_another_stores_page_joins_the_same_product(logged_in, user, shop, settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    listing = make_listing(user, url="https://shop.test/kettle", prices=["40", "38"])
    product = listing.product
    response = logged_in.post(
        reverse("tracker:product_add_listing", args=[product.pk]),
        {"url": f"{shop}/kettle", "priority": "low"},
    )
    assert response.status_code == 302
    added = product.listings.get(url=f"{shop}/kettle")
    assert added.store.domain == shop.removeprefix("http://") and added.priority == "low"
    assert added.checks.get().outcome == CheckLog.Outcome.OK
    refused = logged_in.post(
        reverse("tracker:product_add_listing", args=[product.pk]), {"url": f"{shop}/gone", "priority": "low"}
    )
    assert "does not exist (HTTP 404)" in refused.content.decode()
    assert reverse("tracker:product_add_listing", args=[product.pk]) in refused.content.decode()  # keep trying
    bad = logged_in.post(reverse("tracker:product_add_listing", args=[product.pk]), {"url": "ftp://x.test/"})
    assert bad.status_code == 400 and "only http" in bad.content.decode()
    assert product.listings.count() == 2


# --- Status JSON ----------------------------------------------------------------------------


def test_status_json_says_checking_until_the_check_finishes(logged_in, user):
    listing = make_listing(user)
    check = CheckLog.objects.create(listing=listing)
    data = logged_in.get(reverse("tracker:listing_status", args=[listing.pk])).json()
    assert data["checking"] is True and data["check"]["outcome"] == "queued"
    assert data["last_price"] is None

    CheckLog.objects.filter(pk=check.pk).update(
        outcome=CheckLog.Outcome.ERROR, finished_at=timezone.now(), http_status=503, error="the shop answered HTTP 503"
    )
    Listing.objects.filter(pk=listing.pk).update(
        status=Listing.Status.ERROR, status_reason="the shop answered HTTP 503", last_checked_at=timezone.now()
    )
    response = logged_in.get(reverse("tracker:listing_status", args=[listing.pk]))
    data = response.json()
    assert response["Cache-Control"] == "no-store"
    assert data["checking"] is False
    assert (data["status"], data["reason"]) == ("error", "the shop answered HTTP 503")
    assert data["check"]["http_status"] == 503 and data["checked_at"]


def test_status_json_gives_the_price_found(logged_in, user):
    listing = make_listing(user, prices=["12.50"], currency="PLN")
    data = logged_in.get(reverse("tracker:listing_status", args=[listing.pk])).json()
    assert (data["status"], data["last_price"], data["currency"], data["checking"]) == ("ok", "12.50", "PLN", False)


# --- Editing ---------------------------------------------------------------------------------


def test_rename(logged_in, user):
    listing = make_listing(user)
    logged_in.post(reverse("tracker:product_rename", args=[listing.product_id]), {"name": "  Camping kettle "})
    assert Product.objects.get().name == "Camping kettle"
    response = logged_in.post(reverse("tracker:product_rename", args=[listing.product_id]), {"name": "   "})
    assert response.status_code == 400
    assert Product.objects.get().name == "Camping kettle"


def test_priority_change_brings_the_next_check_closer(logged_in, user):
    listing = make_listing(user, priority=Priority.LOW, next_check_at=timezone.now() + timedelta(hours=20))
    logged_in.post(reverse("tracker:listing_priority", args=[listing.pk]), {"priority": "high"})
    listing.refresh_from_db()
    assert listing.priority == "high"
    assert listing.next_check_at < timezone.now() + timedelta(minutes=20)
    logged_in.post(reverse("tracker:listing_priority", args=[listing.pk]), {"priority": "weekly"})
    listing.refresh_from_db()
    assert listing.priority == "high"


def test_pause_and_resume_a_listing_and_a_whole_product(logged_in, user):
    listing = make_listing(user)
    logged_in.post(reverse("tracker:listing_pause", args=[listing.pk]), {"paused": "1"})
    listing.refresh_from_db()
    assert listing.paused
    page = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "Paused" in page
    logged_in.post(reverse("tracker:listing_pause", args=[listing.pk]), {"paused": "0"})
    listing.refresh_from_db()
    assert not listing.paused
    logged_in.post(reverse("tracker:product_pause", args=[listing.product_id]), {"paused": "1"})
    assert not Listing.objects.filter(paused=False).exists()
    logged_in.post(reverse("tracker:product_pause", args=[listing.product_id]), {"paused": "0"})
    assert not Listing.objects.filter(paused=True).exists()


def test_check_now_queues_one_check_at_a_time(logged_in, user):
    listing = make_listing(user, prices=["10"])
    url = reverse("tracker:listing_check_now", args=[listing.pk])
    logged_in.post(url)
    logged_in.post(url)
    assert listing.checks.filter(outcome=CheckLog.Outcome.QUEUED).count() == 1


def test_delete_asks_first_then_removes_the_product_and_its_history(logged_in, user):
    listing = make_listing(user, prices=["10", "11"])
    url = reverse("tracker:product_delete", args=[listing.product_id])
    confirm = logged_in.get(url)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert Product.objects.count() == 1
    response = logged_in.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("tracker:dashboard")
    assert Product.objects.count() == Listing.objects.count() == PricePoint.objects.count() == 0


def test_removing_one_store_keeps_the_product_until_the_last_goes(logged_in, user):
    first = make_listing(user, url="https://shop.test/kettle", prices=["10"])
    second = Listing.objects.create(
        product=first.product, store=Store.objects.create(domain="other.test"), url="https://other.test/k"
    )
    response = logged_in.post(reverse("tracker:listing_delete", args=[second.pk]))
    assert response["Location"] == first.product.get_absolute_url()
    assert Product.objects.count() == 1
    assert "only store" in logged_in.get(reverse("tracker:listing_delete", args=[first.pk])).content.decode()
    response = logged_in.post(reverse("tracker:listing_delete", args=[first.pk]))
    assert response["Location"] == reverse("tracker:dashboard")
    assert Product.objects.count() == 0


# --- What the pages show ---------------------------------------------------------------------


@pytest.mark.parametrize("prices", [[], ["19.99"], ["25", "24", "24", "22.50", "26", "21"]])
def test_product_page_renders_with_zero_one_or_many_prices(logged_in, user, prices):
    listing = make_listing(user, prices=prices)
    page = logged_in.get(reverse("tracker:product", args=[listing.product_id]), {"days": "all"}).content.decode()
    if prices:
        assert page.count('class="chart"') == 2  # the wide and the phone chart
        assert f"€{Decimal(prices[-1]):,.2f}" in page
        assert 'class="series"' in page
    else:
        assert "No prices recorded yet" in page
        assert 'class="chart"' not in page


def test_product_page_shows_stats_and_the_check_log(logged_in, user):
    listing = make_listing(user, prices=["100", "80", "120", "90"])
    CheckLog.objects.create(
        listing=listing, outcome=CheckLog.Outcome.BLOCKED, http_status=403, duration_ms=55,
        error="the shop answered HTTP 403", finished_at=timezone.now(),
    )
    page = logged_in.get(reverse("tracker:product", args=[listing.product_id])).content.decode()
    assert "€80.00" in page and "€120.00" in page  # lowest and highest
    assert "−10.0%" in page  # 90 against the first 100
    assert "the shop answered HTTP 403" in page and "55 ms" in page and "json-ld" in page


def test_check_log_is_paginated(logged_in, user):
    listing = make_listing(user, prices=[str(n) for n in range(1, 31)])
    url = reverse("tracker:product", args=[listing.product_id])
    first = logged_in.get(url).content.decode()
    assert "Page 1 of 2" in first
    second = logged_in.get(url, {"checks": 2}).content.decode()
    assert "Page 2 of 2" in second


def test_history_period_limits_the_chart(logged_in, user):
    listing = make_listing(user)
    add_prices(listing, ["50"], start=timezone.now() - timedelta(days=60))
    add_prices(listing, ["40"], start=timezone.now() - timedelta(days=1))
    url = reverse("tracker:product", args=[listing.product_id])
    week = logged_in.get(url, {"days": "7"}).content.decode()
    everything = logged_in.get(url, {"days": "all"}).content.decode()
    assert "Highest</dt><dd>€40.00" in week
    assert "Highest</dt><dd>€50.00" in everything


def test_two_stores_get_a_combined_chart(logged_in, user):
    listing = make_listing(user, url="https://shop.test/kettle", prices=["40", "38"])
    other = Listing.objects.create(
        product=listing.product, store=Store.objects.create(domain="other.test"),
        url="https://other.test/k", currency="EUR",
    )
    add_prices(other, ["37", "39"])
    page = logged_in.get(reverse("tracker:product", args=[listing.product_id])).content.decode()
    assert "All stores" in page
    assert 'data-series="other.test"' in page and 'data-series="shop.test"' in page


def test_dashboard_shows_cheapest_price_change_lowest_and_status(logged_in, user):
    listing = make_listing(user, name="Kettle", url="https://shop.test/kettle", prices=["50", "45", "45", "47"])
    other = Listing.objects.create(
        product=listing.product, store=Store.objects.create(domain="other.test"), url="https://other.test/k",
        currency="EUR", status=Listing.Status.BLOCKED, status_reason="the shop answered HTTP 403",
    )
    page = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "€47.00" in page  # current, lowest across stores with a price
    assert "+€2.00 (+4.4%)" in page  # against the previous, different price (45)
    assert "€45.00" in page  # lowest seen
    assert "other.test: the shop answered HTTP 403" in page
    assert 'class="sparkline"' in page
    add_prices(other, ["44"])
    Listing.objects.filter(pk=other.pk).update(status=Listing.Status.OK, status_reason="")
    page = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "cheapest of 2 stores" in page and "€44.00" in page


def test_dashboard_queries_do_not_grow_with_products(logged_in, user, django_assert_max_num_queries):
    for n in range(12):
        make_listing(user, name=f"P{n}", url=f"https://shop.test/p{n}", prices=["10", "9"])
    with django_assert_max_num_queries(12):
        response = logged_in.get(reverse("tracker:dashboard"))
    assert response.content.decode().count('class="product-row') == 12


# --- Extension points for other apps ------------------------------------------------------------


@pytest.fixture
def clean_ui(monkeypatch):
    from tracker import ui

    monkeypatch.setattr(ui, "_nav_links", {})
    monkeypatch.setattr(ui, "_dashboard_annotators", {})
    return ui


def test_other_apps_add_nav_links_and_dashboard_data_in_one_call_per_page(logged_in, user, clean_ui):
    for n in range(3):
        make_listing(user, name=f"P{n}", url=f"https://shop.test/p{n}", prices=["10"])
    calls = []

    def annotate(*, request, rows):
        calls.append(len(rows))
        for row in rows:
            row.extra["note"] = f"note for {row.product.name}"

    clean_ui.dashboard_rows_register(annotate)
    clean_ui.nav_link_register(label="Log in again", url_name="login", order=5)
    clean_ui.nav_link_register(label="Not wired yet", url_name="nowhere:index")
    response = logged_in.get(reverse("tracker:dashboard"))
    assert calls == [3]
    assert [row.extra["note"] for row in response.context["rows"]] == ["note for P2", "note for P1", "note for P0"]
    page = response.content.decode()
    assert f'href="{reverse("login")}">Log in again</a>' in page
    assert "Not wired yet" not in page


def test_a_page_whose_shop_asks_to_wait_is_refused_or_kept_with_its_check_handed_to_the_workers(
    logged_in, user, shop, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from tracker import tasks

    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    settings.FETCH_PACING_ENABLED = True
    settings.FETCH_PACE_WAIT_MAX = 0  # never wait inside the fetch: the check is handed back
    first = logged_in.post(reverse("tracker:dashboard"), {"url": f"{shop}/kettle", "priority": "normal"})
    assert first.status_code == 302
    Store.objects.update(rate_limit_per_minute=1)  # the next turn is a minute away: past the add's wait
    sent: list[dict] = []
    monkeypatch.setattr(tasks.check_listing, "apply_async", lambda **kwargs: sent.append(kwargs))
    url = f"{shop}/kettle?colour=red"

    refused = logged_in.post(reverse("tracker:dashboard"), {"url": url, "priority": "normal"})
    assert "could not be checked in time" in refused.content.decode()
    assert not Listing.objects.filter(url=url).exists()

    with django_capture_on_commit_callbacks(execute=True):
        kept = logged_in.post(reverse("tracker:dashboard"), {"url": url, "priority": "normal", "keep": "1"})
    assert kept.status_code == 302
    listing = Listing.objects.get(url=url)
    check = listing.checks.get()
    assert check.outcome == CheckLog.Outcome.QUEUED  # not lost: a worker takes it at the shop's turn
    assert [call["args"] for call in sent] == [[listing.pk, check.pk]]
    assert sent[0]["countdown"] > 10

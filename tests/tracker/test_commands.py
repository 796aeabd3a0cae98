"""manage.py commands: create_admin, track, check_now, demo, demoshop, against a real local shop."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from demoshop.catalogue import PRODUCTS, price_at
from demoshop.server import start_in_thread
from tracker.models import CheckLog, Listing, PricePoint, Product, Store

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def shop():
    with start_in_thread(clock=lambda: NOW) as running:
        yield running


@pytest.fixture(autouse=True)
def _fetch_loopback(settings, shop):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    settings.DEMO_SHOP_URL = shop.url
    # Password hashing is what these tests do most; the real hasher takes a second each time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.test", "pw-admin-12345")


def run(*args, **kwargs) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nothing_recorded() -> bool:
    return not (
        Product.objects.exists()
        or Listing.objects.exists()
        or PricePoint.objects.exists()
        or Store.objects.exists()
    )


# --- create_admin ------------------------------------------------------------------------


def test_create_admin_reads_the_settings_and_is_idempotent(settings):
    settings.ADMIN_USERNAME = "root"
    settings.ADMIN_PASSWORD = "first-pass-9876"
    settings.ADMIN_EMAIL = "root@example.test"

    assert "Created" in run("create_admin")
    settings.ADMIN_PASSWORD = "second-pass-9876"
    assert "already exists" in run("create_admin")

    user = get_user_model().objects.get(username="root")
    assert user.is_superuser and user.is_staff
    assert user.check_password("first-pass-9876"), "a second run must not change the password"
    assert get_user_model().objects.count() == 1


def test_create_admin_takes_arguments_and_can_reset_the_password():
    run("create_admin", "--username", "boss", "--password", "pw-boss-12345")
    run("create_admin", "--username", "boss", "--password", "pw-boss-67890", "--reset-password")

    assert get_user_model().objects.get(username="boss").check_password("pw-boss-67890")


def test_create_admin_without_a_password_fails_clearly(settings):
    settings.ADMIN_PASSWORD = ""
    with pytest.raises(CommandError, match="no password"):
        run("create_admin", "--username", "nobody")
    assert not get_user_model().objects.exists()


def test_create_admin_refuses_a_weak_password():
    with pytest.raises(CommandError, match="not accepted"):
        run("create_admin", "--username", "weak", "--password", "x")


# --- track -------------------------------------------------------------------------------


@pytest.mark.parametrize("template", ["jsonld", "euro", "zloty", "was_price"])
def test_track_records_the_price_the_page_shows(shop, admin, template):
    product = next(p for p in PRODUCTS if p.template == template)

    out = run("track", shop.product_url(product.slug), "--priority", "high")

    expected = price_at(product.slug, NOW)
    point = PricePoint.objects.get()
    assert (point.price, point.currency) == (expected, product.currency)
    assert f"{expected} {product.currency}" in out
    assert product.name in out
    listing = Listing.objects.get()
    assert listing.priority == "high" and listing.last_price == expected
    assert listing.product.owner == admin


def test_track_uses_the_given_name_and_user(shop, django_user_model):
    carol = django_user_model.objects.create_user("carol", password="pw-carol-123")

    run("track", shop.product_url(PRODUCTS[1].slug), "--user", "carol", "--name", "My headphones")

    assert Product.objects.get(owner=carol).name == "My headphones"


def test_tracking_the_same_page_twice_keeps_one_listing_with_two_prices(shop, admin):
    url = shop.product_url(PRODUCTS[0].slug)
    run("track", url)
    out = run("track", url)

    assert "Already tracking" in out
    assert Listing.objects.count() == 1
    assert PricePoint.objects.count() == 2


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "cannot be tracked"),
        ("ftp://127.0.0.1/file.html", "only http"),
        ("http://127.0.0.1:{closed}/product/x", "could not reach|refused|connect"),
        ("{shop}/product/no-such-product", "404"),
        ("{shop}/downloads/price-list.pdf", "not a web page|pdf"),
        ("{shop}/info/shipping", "no price"),
    ],
    ids=["malformed", "ftp", "unreachable", "404", "pdf", "no-price"],
)
def test_track_bad_input_fails_clearly_and_records_nothing(shop, admin, url, message):
    url = url.format(shop=shop.url, closed=closed_port())

    with pytest.raises(CommandError, match=f"(?i){message}") as failure:
        run("track", url)

    assert "Traceback" not in str(failure.value)
    assert nothing_recorded()


def test_track_keep_leaves_the_failing_listing_marked_with_the_reason(shop, admin):
    with pytest.raises(CommandError, match="marked"):
        run("track", f"{shop.url}/info/shipping", "--keep")

    listing = Listing.objects.get()
    assert listing.status == Listing.Status.NO_PRICE
    assert listing.status_reason
    assert not PricePoint.objects.exists()


def test_track_for_an_unknown_user_fails_clearly(shop):
    with pytest.raises(CommandError, match='no user "ghost"'):
        run("track", shop.product_url(PRODUCTS[0].slug), "--user", "ghost")
    assert nothing_recorded()


def test_track_exits_non_zero_from_the_command_line(shop, admin):
    from django.core.management import ManagementUtility

    utility = ManagementUtility(["manage.py", "track", "ftp://127.0.0.1/x"])
    with pytest.raises(SystemExit) as exit_info:
        utility.execute()
    assert exit_info.value.code != 0


# --- check_now ---------------------------------------------------------------------------


def test_check_now_checks_one_listing_and_prints_its_price(shop, admin):
    product = PRODUCTS[2]
    run("track", shop.product_url(product.slug))
    listing = Listing.objects.get()

    out = run("check_now", "--listing", str(listing.pk))

    assert f"listing {listing.pk:>6}" in out
    assert str(price_at(product.slug, NOW)) in out
    assert PricePoint.objects.filter(listing=listing).count() == 2


def test_check_now_all_due_checks_only_due_listings(shop, admin):
    run("demo")
    listings = list(Listing.objects.order_by("id"))
    not_due = listings[0]
    Listing.objects.filter(pk=not_due.pk).update(next_check_at=datetime(2100, 1, 1, tzinfo=UTC))

    out = run("check_now", "--all-due")

    assert PricePoint.objects.filter(listing=not_due).count() == 0
    for listing in listings[1:]:
        point = PricePoint.objects.get(listing=listing)
        slug = listing.url.rsplit("/", 1)[-1]
        assert point.price == price_at(slug, NOW)
    assert out.count("\n") == len(listings) - 1
    assert "No listing is due." in run("check_now", "--all-due")


def test_check_now_reports_a_failed_check_with_its_reason(shop, admin):
    with pytest.raises(CommandError):
        run("track", f"{shop.url}/info/shipping", "--keep")
    listing = Listing.objects.get()

    with pytest.raises(CommandError, match="1 of 1"):
        run("check_now", "--listing", str(listing.pk))
    assert CheckLog.objects.filter(listing=listing, outcome=CheckLog.Outcome.NO_PRICE).count() == 2


def test_check_now_for_a_missing_listing_fails_clearly():
    with pytest.raises(CommandError, match="no listing 999"):
        run("check_now", "--listing", "999")


# --- demo and demoshop -------------------------------------------------------------------


def test_demo_adds_the_demo_shop_products_once(shop, admin):
    run("demo")
    run("demo")

    urls = set(Listing.objects.values_list("url", flat=True))
    expected = {shop.product_url(p.slug) for p in PRODUCTS if p.template != "plain"}
    assert urls == expected
    assert Product.objects.filter(owner=admin).count() == len(expected)
    assert not PricePoint.objects.exists(), "demo only adds; the workers check"


def test_demo_all_includes_the_page_without_structured_data(shop, admin):
    run("demo", "--all")

    assert Listing.objects.count() == len(PRODUCTS)


def test_the_demoshop_command_refuses_to_serve_when_switched_off(settings):
    settings.DEMO_SHOP_ENABLED = False
    settings.DEBUG = False

    with pytest.raises(CommandError, match="switched off"):
        run("demoshop", "--port", str(closed_port()))


def test_track_waits_for_the_shops_turn_when_pacing_asks_it_to(shop, admin, settings):
    settings.FETCH_PACING_ENABLED = True
    settings.FETCH_PACE_WAIT_MAX = 0  # never wait inside the fetch: the check is handed back
    run("track", shop.product_url(PRODUCTS[0].slug))
    Store.objects.update(rate_limit_per_minute=60)

    out = run("track", shop.product_url(PRODUCTS[1].slug))

    assert str(price_at(PRODUCTS[1].slug, NOW)) in out
    assert PricePoint.objects.count() == 2

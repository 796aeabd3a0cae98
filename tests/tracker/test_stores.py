"""Stores keyed by host and port and named like shops (tracker.stores, the 0010 migration)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from tracker import checking, services
from tracker.models import Listing, Product, Store

from .misbehaving_server import NetGuard, Shop, page, product_html

pytestmark = pytest.mark.django_db

SITE_NAME = '<meta property="og:site_name" content="Kettle World">'


@pytest.fixture
def shops(monkeypatch, settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    guard = NetGuard().install(monkeypatch)
    servers = [Shop("127.0.0.1"), Shop("127.0.0.1")]
    yield servers
    for server in servers:
        server.stop()
    assert guard.forbidden == []


def _check(listing: Listing):
    return checking.listing_check(check_id=checking.check_create(listing=listing).pk)


def test_two_servers_on_one_host_are_two_stores(shops, user):
    first = services.listing_add(owner=user, url=shops[0].url("/kettle"))
    second = services.listing_add(owner=user, url=shops[1].url("/kettle"))

    assert first.store != second.store
    assert first.store.domain == f"127.0.0.1:{shops[0].port}"
    assert services.store_domain("https://www.shop.test:443/x") == "shop.test"  # the usual port is no part of it


def test_the_first_successful_check_names_the_store_and_pages_show_the_name(shops, user, client):
    shops[0].routes["/kettle"] = page(product_html("Copper kettle", price="49.90", extra=SITE_NAME))
    shops[0].routes["/gone"] = page("<html><head>" + SITE_NAME + "</head><body>Sold out</body></html>")
    listing = services.listing_add(owner=user, url=shops[0].url("/gone"))
    _check(listing)
    assert Store.objects.get().name == ""  # no price, no trust in what the page says

    listing = services.listing_add(owner=user, url=shops[0].url("/kettle"))
    _check(listing)

    store = Store.objects.get()
    assert store.name == "Kettle World"
    client.force_login(user)
    for url in (reverse("tracker:dashboard"), listing.product.get_absolute_url()):
        shown = client.get(url).content.decode()
        assert "Kettle World" in shown
        assert f">127.0.0.1:{shops[0].port}<" not in shown and "127.0.0.1</span>" not in shown


def test_a_name_staff_gave_is_kept(shops, user, admin_client):
    shops[0].routes["/kettle"] = page(product_html("Copper kettle", price="49.90", extra=SITE_NAME))
    listing = services.listing_add(owner=user, url=shops[0].url("/kettle"))
    store = listing.store

    changelist = admin_client.get(reverse("admin:tracker_store_changelist")).content.decode()
    assert 'name="form-0-name"' in changelist  # editable in the list
    change = reverse("admin:tracker_store_change", args=[store.pk])
    form = admin_client.get(change).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    response = admin_client.post(change, {**data, "name": "The Kettle Place"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    _check(listing)

    assert Store.objects.get().name == "The Kettle Place"


def test_the_migration_splits_a_store_by_port_and_forgets_names_that_were_hosts(user):
    migration = importlib.import_module("tracker.migrations.0031_store_names_and_port")
    shared = Store.objects.create(domain="127.0.0.1", name="127.0.0.1", rate_limit_per_minute=7, render_js=True)
    named = Store.objects.create(domain="shop.test", name="Shop Test Ltd")
    product = Product.objects.create(owner=user, name="Kettle")
    urls = ["http://127.0.0.1:8001/a", "http://127.0.0.1:8001/b", "http://127.0.0.1:8002/a"]
    for url in urls:
        Listing.objects.create(product=product, store=shared, url=url)
    Listing.objects.create(product=product, store=named, url="https://www.shop.test/k")

    migration.split_by_port(apps, None)
    migration.names_from_hosts_cleared(apps, None)

    by_url = {listing.url: listing.store for listing in Listing.objects.select_related("store")}
    assert by_url[urls[0]] == by_url[urls[1]] == Store.objects.get(pk=shared.pk)  # the largest group keeps it
    assert Store.objects.get(pk=shared.pk).domain == "127.0.0.1:8001"
    split = by_url[urls[2]]
    assert split.domain == "127.0.0.1:8002" and (split.rate_limit_per_minute, split.render_js) == (7, True)
    assert Store.objects.get(pk=shared.pk).name == "" and split.name == ""
    assert Store.objects.get(pk=named.pk).name == "Shop Test Ltd"  # a real name stays

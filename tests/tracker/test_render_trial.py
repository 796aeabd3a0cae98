"""A script shell gets one try in the browser; a price found there makes its store render.

The decision is tested without a browser (a stand-in file for RENDER_CHROMIUM_PATH: the decision
only asks whether a browser is there); the try itself needs Chromium and is skipped without it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache

from tests.tracker.fetching.test_rendering import APP_JS, SPA
from tests.tracker.misbehaving_server import NetGuard, Shop, page
from tracker import checking, render_trial, services
from tracker.fetching import rendering
from tracker.fetching.shells import SHELL_REASON
from tracker.models import CheckLog, Store

SHELLS = Path(__file__).parent / "fetching" / "shells"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def shop(monkeypatch, settings, tmp_path):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    browser = tmp_path / "chromium"
    browser.write_text("")
    settings.RENDER_CHROMIUM_PATH = str(browser)  # "a browser is there" for the decision
    cache.clear()
    guard = NetGuard().install(monkeypatch)
    server = Shop("127.0.0.1")
    yield server
    server.stop()
    cache.clear()
    assert guard.forbidden == []


def _check(listing) -> checking.CheckOutcome:
    return checking.listing_check(check_id=checking.check_create(listing=listing).pk)


def _listing(user, shop, path: str, html: str):
    shop.routes[path] = page(html)
    listing = services.listing_add(owner=user, url=shop.url(path))
    Store.objects.filter(pk=listing.store_id).update(respect_robots=False)
    listing.refresh_from_db()
    return listing


@pytest.mark.django_db
def test_a_script_shell_says_it_needs_javascript_and_is_tried_once_per_store(shop, user):
    first = _listing(user, shop, "/p/1", (SHELLS / "spa_root_div.html").read_text())
    second = _listing(user, shop, "/p/2", (SHELLS / "spa_custom_element.html").read_text())

    outcome = _check(first)

    assert outcome.check.outcome == CheckLog.Outcome.NO_PRICE
    assert outcome.check.error == SHELL_REASON + "; trying it once in a browser"
    assert outcome.render_trial is True
    again = _check(second)
    assert again.render_trial is False
    assert again.check.error == SHELL_REASON  # still says why, without promising a try
    assert Store.objects.get(pk=first.store_id).render_js is False  # not before a price is found


@pytest.mark.django_db
def test_a_page_without_a_price_that_is_no_shell_is_not_tried(shop, user):
    listing = _listing(user, shop, "/table", (SHELLS / "product_without_price.html").read_text())

    outcome = _check(listing)

    assert outcome.check.outcome == CheckLog.Outcome.NO_PRICE
    assert "JavaScript" not in outcome.check.error
    assert outcome.render_trial is False


@pytest.mark.django_db
def test_without_a_browser_the_shell_is_explained_but_not_tried(shop, user, settings, tmp_path):
    settings.RENDER_CHROMIUM_PATH = str(tmp_path / "no-such-browser")
    listing = _listing(user, shop, "/p/1", (SHELLS / "spa_root_div.html").read_text())

    outcome = _check(listing)

    assert (outcome.check.error, outcome.render_trial) == (SHELL_REASON, False)


@pytest.mark.django_db
def test_a_store_that_renders_already_is_not_claimed(shop, user):
    listing = _listing(user, shop, "/p/1", "")
    store = Store.objects.get(pk=listing.store_id)
    html = (SHELLS / "spa_root_div.html").read_text()
    store.render_js = True

    assert render_trial.render_trial_claim(store=store, html=html) is False
    store.render_js = False
    assert render_trial.render_trial_claim(store=store, html=html) is True
    assert render_trial.render_trial_claim(store=store, html=html) is False  # once a day


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="/usr/bin/chromium is not installed: browser rendering not tested")
@pytest.mark.django_db
def test_a_price_found_in_the_browser_makes_the_store_render_from_then_on(shop, user, settings):
    settings.RENDER_CHROMIUM_PATH = str(CHROMIUM)
    settings.FETCH_DEADLINE = 20.0
    shop.routes["/app.js"] = page(APP_JS.replace("SENTINEL", "9"), "application/javascript")
    shop.routes["/api/product"] = page('{"name": "Aurora espresso machine", "price": "349.00"}', "application/json")
    listing = _listing(user, shop, "/p/espresso", SPA.replace('<img src="http://10.0.0.1/pixel.png">', ""))
    try:
        first = _check(listing)
        assert (first.check.outcome, first.render_trial) == (CheckLog.Outcome.NO_PRICE, True)

        assert render_trial.render_trial_run(listing_id=listing.pk) is True
        assert Store.objects.get(pk=listing.store_id).render_js is True

        listing.refresh_from_db()
        checked = _check(listing)
        assert checked.check.outcome == CheckLog.Outcome.OK, checked.check.error
        assert str(checked.price_point.price) == "349.00"
    finally:
        rendering._pool.close()


@pytest.mark.django_db
def test_the_check_task_sends_the_try_to_the_browser_queue(shop, user, monkeypatch):
    from tracker import tasks

    sent = []
    monkeypatch.setattr(tasks.try_rendering, "apply_async", lambda **kwargs: sent.append(kwargs))
    listing = _listing(user, shop, "/p/1", (SHELLS / "spa_root_div.html").read_text())

    tasks.check_listing(listing.pk)
    tasks.check_listing(listing.pk)  # the same store again: no second try

    assert sent == [{"args": [listing.pk], "queue": "browser"}]


# --- The owner's switch ------------------------------------------------------------------


@pytest.mark.django_db
def test_an_owner_switches_rendering_for_his_own_listing_only(client, user, other_user, shop):
    from django.urls import reverse

    from tracker import scheduling
    from tracker.models import Listing

    listing = _listing(user, shop, "/p/1", "")
    client.force_login(user)

    page = client.get(reverse("tracker:product", args=[listing.product_id])).content.decode()
    assert "Check in a browser" in page
    client.post(reverse("tracker:listing_render", args=[listing.pk]), {"render": "1"})
    listing.refresh_from_db()
    assert listing.render_js is True and Store.objects.get(pk=listing.store_id).render_js is False
    assert scheduling.queue_for_listing(listing=listing) == scheduling.BROWSER_QUEUE
    page = client.get(reverse("tracker:product", args=[listing.product_id])).content.decode()
    assert "Rendered in a browser (your choice)" in page and "Check without a browser" in page

    client.post(reverse("tracker:listing_render", args=[listing.pk]), {"render": "0"})
    listing.refresh_from_db()
    assert listing.render_js is False
    assert scheduling.queue_for_listing(listing=listing) != scheduling.BROWSER_QUEUE

    client.force_login(other_user)
    response = client.post(reverse("tracker:listing_render", args=[listing.pk]), {"render": "1"})
    assert response.status_code == 404
    assert Listing.objects.get(pk=listing.pk).render_js is False


@pytest.mark.django_db
def test_a_listing_the_owner_renders_is_not_tried_again(shop, user):
    from tracker.models import Listing

    listing = _listing(user, shop, "/p/1", (SHELLS / "spa_root_div.html").read_text())
    Listing.objects.filter(pk=listing.pk).update(render_js=True)

    assert render_trial.render_trial_run(listing_id=listing.pk) is False
    assert shop.paths() == []  # nothing fetched: it is rendered at its checks already

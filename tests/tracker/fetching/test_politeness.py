"""robots.txt, per-store pace and concurrency shared by workers, back-off and the circuit breaker."""

from __future__ import annotations

import random
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.tracker.misbehaving_server import NetGuard, Shop, page, product_html, send
from tracker import checking, scheduling, services
from tracker.fetching import circuit, pacing, politeness
from tracker.models import CheckLog, Listing, PricePoint, Store

from .test_pacing import Clock

pytestmark = pytest.mark.django_db

UA = "Mozilla/5.0 (compatible; PriceTracker/1.0; +https://pricetracker.test)"


@pytest.fixture
def shop(monkeypatch, settings, tmp_path):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    settings.FETCH_USER_AGENT = UA
    settings.FETCH_PACING_ENABLED = True
    settings.FETCH_DEADLINE = 3.0
    settings.DATA_DIR = tmp_path
    settings.REDIS_URL = ""
    guard = NetGuard().install(monkeypatch)
    server = Shop("127.0.0.1")
    server.routes["/p/1"] = page(product_html("Kettle", "10.00"))
    server.routes["/p/2"] = page(product_html("Toaster", "20.00"))
    server.routes["/private/3"] = page(product_html("Secret", "30.00"))
    yield server
    server.stop()
    assert guard.forbidden == []


def check(listing: Listing) -> checking.CheckOutcome | None:
    return checking.listing_check(check_id=checking.check_create(listing=listing).pk)


def fast_store(listing: Listing, **fields) -> Store:
    """A store with a pace that does not slow the test down unless it means to."""
    Store.objects.filter(pk=listing.store_id).update(**{"rate_limit_per_minute": 6000, "max_concurrency": 4, **fields})
    listing.refresh_from_db()
    return listing.store


# --- robots.txt ----------------------------------------------------------------------------


def test_a_page_robots_txt_disallows_is_not_fetched_and_the_listing_says_why(shop, user):
    shop.routes["/robots.txt"] = page("User-agent: *\nDisallow: /private/\n", "text/plain")
    listing = services.listing_add(owner=user, url=shop.url("/private/3"))
    fast_store(listing)
    outcome = check(listing)
    listing.refresh_from_db()
    assert outcome.check.outcome == CheckLog.Outcome.SKIPPED
    assert listing.status == Listing.Status.BLOCKED and "robots.txt" in listing.status_reason
    assert listing.next_check_at > timezone.now() + timedelta(hours=1)
    assert "/private/3" not in shop.paths() and not PricePoint.objects.exists()


def test_robots_txt_is_read_once_and_cached_on_the_store(shop, user, settings):
    shop.routes["/robots.txt"] = page("User-agent: PriceTracker\nDisallow: /private/\n", "text/plain")
    first = services.listing_add(owner=user, url=shop.url("/p/1"))
    second = services.listing_add(owner=user, url=shop.url("/p/2"))
    fast_store(first)
    for listing in (first, second, first):
        assert check(listing).check.outcome == CheckLog.Outcome.OK
    assert shop.paths().count("/robots.txt") == 1
    store = Store.objects.get(pk=first.store_id)
    assert "Disallow: /private/" in store.robots_txt and store.robots_fetched_at
    Store.objects.filter(pk=store.pk).update(robots_fetched_at=timezone.now() - timedelta(seconds=settings.ROBOTS_CACHE_SECONDS + 1))
    check(second)
    assert shop.paths().count("/robots.txt") == 2


def test_an_admin_can_override_robots_txt_for_one_store(shop, user):
    shop.routes["/robots.txt"] = page("User-agent: *\nDisallow: /\n", "text/plain")
    listing = services.listing_add(owner=user, url=shop.url("/p/1"))
    fast_store(listing, respect_robots=False)
    assert check(listing).check.outcome == CheckLog.Outcome.OK
    assert "/robots.txt" not in shop.paths()


def test_a_missing_robots_txt_allows_everything_and_the_user_agent_is_ours(shop, user):
    listing = services.listing_add(owner=user, url=shop.url("/p/1"))
    fast_store(listing)
    assert check(listing).check.outcome == CheckLog.Outcome.OK
    assert all(headers.get("User-Agent") == UA for _, headers in shop.requests)


def test_an_unreachable_robots_txt_skips_the_check_for_now(shop, user):
    shop.routes["/robots.txt"] = page("<p>down</p>", status=500)
    listing = services.listing_add(owner=user, url=shop.url("/p/1"))
    fast_store(listing)
    outcome = check(listing)
    assert outcome.check.outcome == CheckLog.Outcome.SKIPPED and "robots.txt" in outcome.check.error
    assert "/p/1" not in shop.paths()


def test_crawl_delay_and_request_rate_slow_the_store_down(shop, user):
    listing = services.listing_add(owner=user, url=shop.url("/p/1"))
    store = fast_store(listing)
    robots = politeness.Protego.parse("User-agent: *\nCrawl-delay: 7\n")
    assert politeness.store_interval(store=store, robots=robots) == 7
    robots = politeness.Protego.parse("User-agent: *\nRequest-rate: 1/20s\n")
    assert politeness.store_interval(store=store, robots=robots) == 20
    store.rate_limit_per_minute = 2
    assert politeness.store_interval(store=store, robots=politeness.Protego.parse("")) == 30


# --- Pace and concurrency shared by workers ---------------------------------------------


def test_a_check_whose_store_is_busy_goes_back_to_the_queue(shop, user):
    listing = services.listing_add(owner=user, url=shop.url("/p/1"))
    store = fast_store(listing, max_concurrency=1)
    with pacing.limiter().slot(pacing.store_key(store), 1, 0.0):
        outcome = check(listing)
    assert outcome.requeue_in is not None and 0 < outcome.requeue_in <= 120
    assert outcome.check.outcome == CheckLog.Outcome.QUEUED
    again = checking.listing_check(check_id=outcome.check.pk)  # the same check, run again
    assert again.check.outcome == CheckLog.Outcome.OK and PricePoint.objects.count() == 1


def test_the_store_pace_spaces_requests(shop, user, settings):
    settings.FETCH_PACE_WAIT_MAX = 5.0
    listing = services.listing_add(owner=user, url=shop.url("/p/1"))
    fast_store(listing, rate_limit_per_minute=120)  # one request every 0.5 s
    started = time.monotonic()
    for _ in range(3):
        assert check(listing).check.outcome == CheckLog.Outcome.OK
    assert time.monotonic() - started >= 0.9


def test_no_window_sees_more_than_the_store_limit_even_when_waiters_wake_late(user, settings, tmp_path, monkeypatch):
    settings.DATA_DIR, settings.REDIS_URL, settings.FETCH_PACING_ENABLED = tmp_path, "", True
    settings.FETCH_PACE_WAIT_MAX = 10.0
    pacing._limiter = None
    clock = Clock(random.Random(7), 0.4)
    monkeypatch.setattr(pacing, "time", clock)
    monkeypatch.setattr(politeness, "time", clock)
    listing = services.listing_add(owner=user, url="http://shop.test/p/1")
    store = fast_store(listing, rate_limit_per_minute=60)
    sent = []
    for _ in range(200):
        with politeness.store_slot(store=store, interval=1.0):
            sent.append(clock.now)
        clock.now += random.Random(len(sent)).uniform(0, 0.3)  # the request itself
    for seconds in (1.0, 5.0, 60.0):
        busiest = max(sum(1 for t in sent if start - seconds < t <= start) for start in sent)
        assert busiest <= seconds, f"{busiest} requests in {seconds} s at 60 a minute"


def test_reading_robots_txt_takes_a_turn_of_the_store_pace(shop, user, settings):
    settings.FETCH_PACE_WAIT_MAX = 0.0
    listing = services.listing_add(owner=user, url=shop.url("/p/1"))
    fast_store(listing, rate_limit_per_minute=60)
    outcome = check(listing)
    assert outcome.check.outcome == CheckLog.Outcome.QUEUED and outcome.requeue_in > 0.5
    assert shop.paths() == ["/robots.txt"], "the page went out right after robots.txt"


def test_a_429_pushes_the_whole_store_back(shop, user):
    shop.routes["/p/1"] = page("<p>slow down</p>", status=429, Retry_After="60")
    first = services.listing_add(owner=user, url=shop.url("/p/1"))
    second = services.listing_add(owner=user, url=shop.url("/p/2"))
    fast_store(first)
    check(first)
    outcome = check(second)
    assert outcome.check.outcome in (CheckLog.Outcome.QUEUED, CheckLog.Outcome.SKIPPED)
    assert "/p/2" not in shop.paths()


# --- Back-off --------------------------------------------------------------------------------


def test_back_off_doubles_with_jitter_and_honours_retry_after(settings):
    settings.FETCH_BACKOFF_BASE, settings.FETCH_BACKOFF_MAX = 60, 3600
    rng = random.Random(4)
    for failures in range(1, 9):
        delay = politeness.retry_delay(failures=failures, rng=rng)
        full = min(60 * 2 ** (failures - 1), 3600)
        assert full / 2 <= delay <= full
    delays = {politeness.retry_delay(failures=3, rng=rng) for _ in range(20)}
    assert len(delays) > 10, "no jitter"
    assert politeness.retry_delay(failures=5, retry_after=90) == 90


# --- Circuit breaker -----------------------------------------------------------------------


def test_the_circuit_opens_after_repeated_failures_skips_then_probes_and_closes(shop, user, settings):
    settings.CIRCUIT_FAILURE_THRESHOLD = 3
    failing = {"on": True}

    def flaky(h):
        if failing["on"]:
            send(h, 503, b"<p>down</p>")
        else:
            send(h, 200, product_html("Kettle", "10.00").encode())

    # Issue 14: each listing counts once, so three failing listings (of the store's only
    # follower) open it, not one listing failing three times.
    for path in ("/p/1", "/p/2", "/p/3"):
        shop.routes[path] = flaky
    listing = services.listing_add(owner=user, url=shop.url("/p/1"))
    fast_store(listing)
    assert check(listing).check.outcome == CheckLog.Outcome.ERROR
    assert check(listing).check.outcome == CheckLog.Outcome.ERROR
    assert Store.objects.get(pk=listing.store_id).circuit_state == Store.CircuitState.CLOSED
    for path in ("/p/2", "/p/3"):
        assert check(services.listing_add(owner=user, url=shop.url(path))).check.outcome == CheckLog.Outcome.ERROR
    store = Store.objects.get(pk=listing.store_id)
    assert store.circuit_state == Store.CircuitState.OPEN and store.circuit_failures == 3
    assert circuit.circuit_snapshot()["counts"]["open"] == 1

    requests_before = len(shop.requests)
    outcome = check(listing)
    listing.refresh_from_db()
    assert outcome.check.outcome == CheckLog.Outcome.SKIPPED and "circuit open" in outcome.check.error
    assert len(shop.requests) == requests_before, "a check went to a store whose circuit is open"
    assert listing.next_check_at >= store.circuit_opened_at + timedelta(seconds=settings.CIRCUIT_COOLDOWN)

    # Cool-down over: one probe; it fails, so the circuit opens again.
    Store.objects.filter(pk=store.pk).update(circuit_opened_at=timezone.now() - timedelta(hours=1))
    assert check(listing).check.outcome == CheckLog.Outcome.ERROR
    assert Store.objects.get(pk=store.pk).circuit_state == Store.CircuitState.OPEN

    # Next probe succeeds: closed, counters reset, price recorded.
    Store.objects.filter(pk=store.pk).update(circuit_opened_at=timezone.now() - timedelta(hours=1))
    failing["on"] = False
    assert check(listing).check.outcome == CheckLog.Outcome.OK
    store.refresh_from_db()
    assert (store.circuit_state, store.circuit_failures) == (Store.CircuitState.CLOSED, 0)


def test_only_one_check_probes_a_half_open_circuit(user, shop):
    listing = services.listing_add(owner=user, url=shop.url("/p/1"))
    store = fast_store(listing)
    Store.objects.filter(pk=store.pk).update(
        circuit_state=Store.CircuitState.OPEN, circuit_failures=5, circuit_opened_at=timezone.now() - timedelta(hours=1)
    )
    a, b = Store.objects.get(pk=store.pk), Store.objects.get(pk=store.pk)
    politeness.circuit_check(store=a)  # wins the probe
    with pytest.raises(politeness.CheckSkipped):
        politeness.circuit_check(store=b)
    assert Store.objects.get(pk=store.pk).circuit_state == Store.CircuitState.HALF_OPEN


def test_a_not_found_page_does_not_count_against_the_store(shop, user, settings):
    settings.CIRCUIT_FAILURE_THRESHOLD = 2
    listing = services.listing_add(owner=user, url=shop.url("/gone"))
    fast_store(listing)
    for _ in range(3):
        assert check(listing).check.http_status == 404
    assert Store.objects.get(pk=listing.store_id).circuit_state == Store.CircuitState.CLOSED


def _broken(h):
    send(h, 503, b"<p>this page is broken</p>")


def test_one_users_broken_pages_do_not_pause_the_store_for_others(shop, user, other_user, settings):
    settings.CIRCUIT_FAILURE_THRESHOLD = 5
    good = services.listing_add(owner=other_user, url=shop.url("/p/1"))
    fast_store(good)
    for i in range(5):
        shop.routes[f"/broken/{i}"] = _broken
        broken = services.listing_add(owner=user, url=shop.url(f"/broken/{i}"))
        for _ in range(2):
            assert check(broken).check.outcome == CheckLog.Outcome.ERROR
    store = Store.objects.get(pk=good.store_id)
    assert store.circuit_state == Store.CircuitState.CLOSED and store.circuit_failures == 5
    outcome = check(good)
    assert outcome.check.outcome == CheckLog.Outcome.OK and outcome.check.price_point is not None


def test_failures_of_many_people_still_open_the_circuit(shop, user, django_user_model, settings):
    settings.CIRCUIT_FAILURE_THRESHOLD = 5
    first = services.listing_add(owner=user, url=shop.url("/p/1"))
    fast_store(first)
    for i in range(5):
        person = django_user_model.objects.create_user(username=f"person{i}", password="pw-x-12345")
        shop.routes[f"/down/{i}"] = _broken
        assert check(services.listing_add(owner=person, url=shop.url(f"/down/{i}"))).check.outcome == "error"
    assert Store.objects.get(pk=first.store_id).circuit_state == Store.CircuitState.OPEN
    outcome = check(first)
    assert outcome.check.outcome == CheckLog.Outcome.SKIPPED and "circuit open" in outcome.check.error


def test_one_listing_failing_again_and_again_does_not_pause_the_store(shop, user, settings):
    settings.CIRCUIT_FAILURE_THRESHOLD = 3
    shop.routes["/broken/1"] = _broken
    listing = services.listing_add(owner=user, url=shop.url("/broken/1"))
    fast_store(listing)
    for _ in range(6):
        assert check(listing).check.outcome == CheckLog.Outcome.ERROR
    store = Store.objects.get(pk=listing.store_id)
    assert store.circuit_state == Store.CircuitState.CLOSED and store.circuit_failures == 1


# --- Routing -----------------------------------------------------------------------------------


def test_checks_of_stores_that_render_javascript_go_to_the_browser_queue(shop, user):
    plain = services.listing_add(owner=user, url=shop.url("/p/1"))
    Store.objects.create(domain="spa.test", render_js=True)
    rendered = services.listing_add(owner=user, url="http://spa.test/p/9")
    past = timezone.now() - timedelta(minutes=1)
    Listing.objects.update(next_check_at=past)
    queues = {c.listing_id: c.queue for c in scheduling.checks_claim_due()}
    assert queues[rendered.pk] == "browser" and queues[plain.pk].startswith("checks_")


# --- What people see ---------------------------------------------------------------------------


def test_the_product_page_shows_an_open_circuit_and_a_robots_override(client, user, shop):
    from django.urls import reverse

    listing = services.listing_add(owner=user, url=shop.url("/p/1"))
    client.force_login(user)
    url = reverse("tracker:product", args=[listing.product_id])
    html = client.get(url).content.decode()
    assert "Shop paused" not in html and "robots.txt ignored" not in html
    Store.objects.filter(pk=listing.store_id).update(circuit_state=Store.CircuitState.OPEN, respect_robots=False)
    html = client.get(url).content.decode()
    assert "Shop paused: circuit open" in html and "robots.txt ignored (admin)" in html

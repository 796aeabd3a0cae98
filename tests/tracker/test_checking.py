"""Checking a listing end to end (tracker.checking.listing_check) against a local shop:
what is recorded, what other apps are told, and how little a routine check costs the database."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tracker import checking, services, signals
from tracker.learning import samples
from tracker.models import CheckLog, ListingPage, PricePoint

from .misbehaving_server import NetGuard, Shop, page, product_html


@pytest.fixture
def shop(monkeypatch, settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    guard = NetGuard().install(monkeypatch)
    server = Shop("127.0.0.1")
    yield server
    server.stop()
    assert guard.forbidden == []


@pytest.fixture
def told():
    """What the check_finished signal carried, message by message."""
    messages: list[dict] = []

    def receiver(sender, **kwargs):
        messages.append(kwargs)

    signals.check_finished.connect(receiver, dispatch_uid="test-services-told")
    yield messages
    signals.check_finished.disconnect(dispatch_uid="test-services-told")


def _check(listing) -> checking.CheckOutcome | None:
    check = checking.check_create(listing=listing)
    return checking.listing_check(check_id=check.pk)


@pytest.mark.django_db(transaction=True)
def test_a_check_records_the_price_names_the_product_and_tells_the_other_apps(shop, user, told):
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))

    outcome = _check(listing)

    assert outcome.check.outcome == CheckLog.Outcome.OK
    point = PricePoint.objects.get(listing=listing)
    assert (point.price, point.currency, point.check_log_id) == (Decimal("49.90"), "EUR", outcome.check.pk)
    listing.refresh_from_db()
    assert (listing.last_price, listing.title, listing.product.name) == (Decimal("49.90"), "Copper kettle", "Copper kettle")
    assert told == [
        {
            "signal": signals.check_finished,
            "check_id": outcome.check.pk,
            "listing_id": listing.pk,
            "product_id": listing.product_id,
            "store": shop.url("/").split("/")[2],  # host and port: each server is a shop of its own
            "method": "json-ld",
            "price_point_id": point.pk,
            "outcome": "ok",
            "price_changed": True,
            "checked_at": point.checked_at,
            "product_updated_at": listing.product.updated_at,
        }
    ]


@pytest.mark.django_db
def test_running_the_same_check_twice_records_one_price(shop, user):
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    check = checking.check_create(listing=listing)

    assert checking.listing_check(check_id=check.pk) is not None
    assert checking.listing_check(check_id=check.pk) is None
    assert PricePoint.objects.filter(listing=listing).count() == 1


@pytest.mark.django_db
def test_a_page_that_reads_the_same_is_not_stored_again_and_one_that_reads_differently_replaces_it(shop, user):
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    _check(listing)
    first = ListingPage.objects.get(listing=listing)

    # Other bytes (a session token, a timestamp), the same price read from the same place.
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90", extra="<meta name=t content=8f3a>"))
    _check(listing)
    again = ListingPage.objects.get(listing=listing)
    assert (again.facts_hash, again.fetched_at, again.html) == (first.facts_hash, first.fetched_at, first.html)

    shop.routes["/kettle"] = page(product_html("Copper kettle", price="44.90"))
    _check(listing)
    changed = ListingPage.objects.get(listing=listing)
    assert changed.pk == first.pk and changed.facts_hash != first.facts_hash
    assert "44.90" in changed.html and len(changed.html_z) < len(changed.html.encode())
    assert list(
        PricePoint.objects.filter(listing=listing).order_by("checked_at").values_list("price", "confirmations")
    ) == [(Decimal("49.90"), 2), (Decimal("44.90"), 1)]


@pytest.mark.django_db
def test_a_store_keeps_a_bounded_number_of_recent_sample_pages(shop, user, settings):
    settings.STORE_PAGES_KEPT = 2
    listings = []
    for n in range(4):
        shop.routes[f"/kettle-{n}"] = page(product_html(f"Kettle {n}", price=f"4{n}.90"))
        listings.append(services.listing_add(owner=user, url=shop.url(f"/kettle-{n}")))
        _check(listings[-1])

    # The first two pages are the store's samples; later listings wait for a stale one.
    assert sorted(ListingPage.objects.values_list("listing_id", flat=True)) == [listings[0].pk, listings[1].pk]
    ListingPage.objects.filter(listing=listings[0]).update(fetched_at=timezone.now() - timedelta(days=2))
    _check(listings[3])
    assert sorted(ListingPage.objects.values_list("listing_id", flat=True)) == [listings[1].pk, listings[3].pk]
    # Pattern learning and validation read them back whole.
    kept = samples.store_sample_pages(store=listings[0].store)
    assert [sample.url for sample in kept] == [listings[3].url, listings[1].url]
    assert "Kettle 3" in kept[0].html


@pytest.mark.django_db
def test_a_price_ten_times_the_history_is_flagged_and_the_same_price_again_is_not(shop, user):
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    assert _check(listing).check.outcome == CheckLog.Outcome.OK
    assert _check(listing).check.outcome == CheckLog.Outcome.OK

    shop.routes["/kettle"] = page(product_html("Copper kettle", price="499.00"))
    outcome = _check(listing)

    assert outcome.check.outcome == CheckLog.Outcome.FLAGGED
    assert "implausible" in outcome.check.error
    assert PricePoint.objects.filter(listing=listing, price=Decimal("499.00")).count() == 0


@pytest.mark.django_db
def test_a_routine_check_of_an_unchanged_page_needs_few_queries(shop, user, django_assert_max_num_queries):
    """The database is the worker's busiest partner: the claim reads the check, its listing,
    the pattern and the kept page at once (one statement on PostgreSQL, two on SQLite); then
    the point, the check's row and the listing are written, and deals asks about alert rules."""
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    _check(listing)
    check = checking.check_create(listing=listing)

    with django_assert_max_num_queries(7):
        outcome = checking.listing_check(check_id=check.pk)

    assert outcome.check.outcome == CheckLog.Outcome.OK


@pytest.mark.django_db
def test_each_price_keeps_how_it_was_read_and_the_product_page_shows_it(shop, user, client):
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    first = _check(listing)
    again = _check(listing)

    point = PricePoint.objects.get(listing=listing)
    assert (point.method, point.evidence_source) == ("json-ld", "JSON-LD offers.price")
    assert '"price": "49.90"' in point.evidence_text
    # Both checks name the point: the first found the price, the second confirmed it.
    assert first.check.price_seen_id == again.check.price_seen_id == point.pk

    client.force_login(user)
    html = client.get(listing.product.get_absolute_url()).content.decode()
    assert html.count("JSON-LD offers.price") >= 3  # two check log rows and the chart's point
    assert "confirmed 49.90 EUR" in html and "new price" in html
    assert "<title>49.90 EUR · json-ld · JSON-LD offers.price · read from:" in html
    assert "confirmed by 2 checks until" in html


@pytest.mark.django_db
def test_checks_keep_the_listing_summary_the_dashboard_reads_as_the_history_gives_it(shop, user):
    from tracker import history
    from tracker.models import Listing

    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    for price in ["49.90", "49.90", "44.90", "52.00", "52.00"]:
        shop.routes["/kettle"] = page(product_html("Copper kettle", price=price))
        _check(listing)

    fields = ("last_price_at", "previous_price", "previous_price_at", "lowest_price", "highest_price", "trend")
    kept = Listing.objects.values(*fields).get(pk=listing.pk)
    history.listing_summary_rebuild(listing_model=Listing, point_model=PricePoint, listing_ids=[listing.pk])
    assert Listing.objects.values(*fields).get(pk=listing.pk) == kept
    assert (kept["previous_price"], kept["lowest_price"], kept["highest_price"]) == (
        Decimal("44.90"), Decimal("44.90"), Decimal("52.00")
    )
    assert [price for _, price in kept["trend"]] == ["49.90", "44.90", "52.00"]


@pytest.fixture
def clock(monkeypatch):
    """The check path's clock, set by the test (the schedule spaces checks minutes apart)."""
    from datetime import UTC, datetime

    now = {"at": datetime(2026, 6, 1, 12, 5, tzinfo=UTC)}
    monkeypatch.setattr(timezone, "now", lambda: now["at"])
    return now


@pytest.mark.django_db
def test_routine_checks_of_an_hour_fold_into_one_row_that_counts_them_and_changes_keep_their_own(
    shop, user, clock, client
):
    from metrics import selectors as metrics

    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    _check(listing)  # 12:05, the first price
    checks = []
    for minute in (20, 35, 50):  # the same price, confirmed three times this hour
        clock["at"] = clock["at"].replace(minute=minute)
        checks.append(checking.check_create(listing=listing))
        outcome = checking.listing_check(check_id=checks[-1].pk)
        assert outcome.check.outcome == CheckLog.Outcome.OK and not outcome.price_changed
    clock["at"] = clock["at"].replace(hour=13, minute=5)  # the next hour starts a row of its own
    _check(listing)
    clock["at"] = clock["at"].replace(minute=20)
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="44.90"))
    changed = _check(listing)  # a new price: never folded into the confirmations before it
    clock["at"] = clock["at"].replace(minute=35)
    _check(listing)

    rows = list(CheckLog.objects.filter(listing=listing).order_by("queued_at").values_list(
        "finished_at__hour", "finished_at__minute", "checks", "until__minute", "outcome"
    ))
    assert rows == [
        (12, 5, 1, None, "ok"),  # found 49.90
        (12, 20, 3, 50, "ok"),  # confirmed it at 12:20, 12:35 and 12:50
        (13, 5, 1, 5, "ok"),  # confirmed it at 13:05
        (13, 20, 1, None, "ok"),  # found 44.90
        (13, 35, 1, 35, "ok"),  # confirmed 44.90
    ]
    assert changed.price_changed and changed.check.pk == CheckLog.objects.get(finished_at__minute=20,
                                                                               finished_at__hour=13).pk
    # Nothing lost: the price point still counts every check and the last one's time.
    assert list(PricePoint.objects.filter(listing=listing).order_by("checked_at").values_list(
        "price", "confirmations", "last_confirmed_at__hour", "last_confirmed_at__minute"
    )) == [(Decimal("49.90"), 5, 13, 5), (Decimal("44.90"), 2, 13, 35)]
    # A folded check is done: running it again (a redelivered task) records nothing.
    assert not CheckLog.objects.filter(pk=checks[1].pk).exists()
    assert checking.listing_check(check_id=checks[1].pk) is None
    assert PricePoint.objects.get(price=Decimal("49.90")).confirmations == 5
    # The check log shows the row as the checks it stands for, with their mean duration.
    client.force_login(user)
    html = client.get(listing.product.get_absolute_url()).content.decode()
    assert "3 checks until 12:50" in html and "(mean)" in html
    # Checks per hour and per store count the folded ones.
    hours = metrics.checks_by_outcome(since=clock["at"].replace(hour=12, minute=0), until=clock["at"])
    assert [row["ok"] for row in hours] == [4, 3]
    assert [(row["total"], row["good"]) for row in metrics.store_success_rates(
        since=clock["at"].replace(hour=0), until=clock["at"])] == [(7, 7)]


@pytest.mark.django_db
def test_a_failure_ends_a_run_of_routine_checks(shop, user, clock):
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    _check(listing)
    for minute, route in ((10, "ok"), (15, "gone"), (20, "ok"), (25, "ok")):
        clock["at"] = clock["at"].replace(minute=minute)
        if route == "gone":
            shop.routes["/kettle"] = page("<html><body>Not here</body></html>", status=500)
        else:
            shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
        _check(listing)

    assert list(CheckLog.objects.filter(listing=listing).order_by("queued_at").values_list(
        "finished_at__minute", "checks", "outcome"
    )) == [(5, 1, "ok"), (10, 1, "ok"), (15, 1, "error"), (20, 2, "ok")]


def _fold_state(listing) -> tuple:
    """What a run of routine checks leaves: the check log's rows, the points and the listing."""
    listing.refresh_from_db()
    log = list(CheckLog.objects.filter(listing=listing).order_by("queued_at").values_list(
        "outcome", "checks", "finished_at", "until", "duration_ms", "price_seen_id", "http_status", "method"
    ))
    points = list(PricePoint.objects.filter(listing=listing).order_by("checked_at").values_list(
        "price", "confirmations", "last_confirmed_at"
    ))
    # Rows and points named by their place (the two runs' ids differ).
    ranks = {row_id: n for n, row_id in enumerate(CheckLog.objects.filter(listing=listing).order_by("queued_at")
                                                   .values_list("pk", flat=True))}
    point_ranks = {pk: n for n, pk in enumerate(PricePoint.objects.filter(listing=listing).order_by("checked_at")
                                                .values_list("pk", flat=True))}
    log = [row[:5] + (point_ranks.get(row[5]),) + row[6:] for row in log]
    return log, points, (listing.status, listing.last_checked_at, ranks.get(listing.routine_check_id),
                         point_ranks.get(listing.last_point_id), listing.last_price, listing.consecutive_failures)


@pytest.mark.django_db
def test_the_steady_state_path_of_routine_checks_records_what_the_general_path_records(
    shop, user, clock, monkeypatch
):
    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))

    def run(label: str) -> tuple:
        clock["at"] = clock["at"].replace(hour=12, minute=5)
        listing = services.listing_add(owner=user, url=shop.url(f"/kettle?{label}"))
        for minute in (5, 20, 35, 50):
            clock["at"] = clock["at"].replace(minute=minute)
            _check(listing)
        clock["at"] = clock["at"].replace(hour=13, minute=5)
        _check(listing)
        log, points, state = _fold_state(listing)
        # Durations are measured, so they differ between the runs; the rest may not.
        return [row[:4] + row[5:] for row in log], points, state

    shop.routes["/kettle?fast"] = shop.routes["/kettle?general"] = shop.routes["/kettle"]
    taken = []
    real = checking._record_routine
    monkeypatch.setattr(checking, "_record_routine", lambda **kw: taken.append(r := real(**kw)) or r)
    fast = run("fast")
    assert sum(r is not None for r in taken) == 2  # 12:35 and 12:50 folded by the steady-state path
    monkeypatch.setattr(checking, "_record_routine", lambda **kw: None)
    general = run("general")

    assert fast == general
    assert [row[:2] for row in fast[0]] == [("ok", 1), ("ok", 3), ("ok", 1)]
    assert [row[1:] for row in fast[1]] == [(5, clock["at"])]  # every check confirmed the one point


@pytest.mark.django_db
def test_a_routine_check_whose_row_changed_after_its_claim_is_recorded_once_by_the_general_path(
    shop, user, clock, monkeypatch
):
    from tracker.fetching import politeness

    shop.routes["/kettle"] = page(product_html("Copper kettle", price="49.90"))
    listing = services.listing_add(owner=user, url=shop.url("/kettle"))
    for minute in (5, 20):
        clock["at"] = clock["at"].replace(minute=minute)
        _check(listing)
    run = CheckLog.objects.get(listing=listing, finished_at__minute=20)
    fetch = politeness.listing_fetch

    def fetch_while_the_row_changes(**kwargs):
        # After the claim read the routine row: another writer moves it, so the fold misses.
        CheckLog.objects.filter(pk=run.pk).update(method="pattern")
        return fetch(**kwargs)

    monkeypatch.setattr(politeness, "listing_fetch", fetch_while_the_row_changes)
    clock["at"] = clock["at"].replace(minute=35)
    outcome = _check(listing)

    assert outcome.check.outcome == CheckLog.Outcome.OK and not outcome.price_changed
    # Nothing of the missed writes stayed: the point counts this check once, the moved row did
    # not take it, and the check kept a row of its own that the next ones fold into.
    assert PricePoint.objects.get(listing=listing).confirmations == 3
    run.refresh_from_db()
    assert (run.checks, run.until.minute) == (1, 20)
    own = CheckLog.objects.get(pk=outcome.check.pk)
    assert (own.outcome, own.checks, own.until.minute) == ("ok", 1, 35)
    listing.refresh_from_db()
    assert listing.routine_check_id == own.pk and listing.last_checked_at == clock["at"]

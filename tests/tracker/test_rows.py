"""The SQL written out for the check path (tracker.rows) reads and writes exactly what the ORM
would, on SQLite and on PostgreSQL (CI runs this file on both)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from tracker import checking, rows, services
from tracker.models import CheckLog, Listing, ListingPage, PricePoint, Store

pytestmark = pytest.mark.django_db


@pytest.fixture
def check(user):
    listing = services.listing_add(owner=user, url="http://127.0.0.1:9/p/kettle", name="Kettle")
    Listing.objects.filter(pk=listing.pk).update(
        last_price=Decimal("1299.99"),
        currency="PLN",
        in_stock=False,
        last_checked_at=datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
    )
    Store.objects.filter(pk=listing.store_id).update(
        robots_txt="User-agent: *\nDisallow: /cart", render_js=True
    )
    return checking.check_create(listing=listing)


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_a_claim_takes_a_queued_check_once_and_reads_it_as_the_orm_reads_it(check, django_assert_num_queries):
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    since = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    # One round trip on PostgreSQL (the claim's RETURNING feeds the read); two in-process on SQLite.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        claimed = rows.check_claim(check_id=check.pk, at=at, pages_since=since)
        related = (claimed.check.listing, claimed.check.listing.store, claimed.check.listing.product)

    expected = CheckLog.objects.select_related("listing", "listing__store", "listing__product").get(pk=check.pk)
    assert (expected.outcome, expected.started_at, expected.attempts) == (CheckLog.Outcome.RUNNING, at, 1)
    assert _fields(claimed.check) == _fields(expected)
    assert _fields(related[0]) == _fields(expected.listing)
    assert _fields(related[1]) == _fields(expected.listing.store)
    assert _fields(related[2]) == _fields(expected.listing.product)
    assert related[0].last_price == Decimal("1299.99") and related[0].in_stock is False
    assert related[0].last_checked_at == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert claimed.check._state.adding is False
    assert rows.check_claim(check_id=check.pk, at=at, pages_since=since) is None  # already taken
    assert rows.check_claim(check_id=987654, at=at, pages_since=since) is None


def test_a_claim_reads_the_owners_pattern_before_the_stores_and_the_listings_kept_page(check, user, django_user_model):
    from tracker.models import ExtractionPattern

    listing = Listing.objects.get(pk=check.listing_id)
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    since = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    def claim():
        CheckLog.objects.filter(pk=check.pk).update(outcome=CheckLog.Outcome.QUEUED)
        return rows.check_claim(check_id=check.pk, at=at, pages_since=since)

    first = claim()
    assert first.pattern is None
    # No page kept: the store's pages written since the cutoff are counted instead.
    assert first.page == rows.PageKept(facts_hash=None, fetched_at=None, store_pages_since=0)

    def pattern(owner, selector, status="active"):
        return ExtractionPattern.objects.create(
            store_id=listing.store_id, owner=owner, version=ExtractionPattern.objects.count() + 1,
            source="heuristic", status=status,
            spec={"price_selector": selector},
        )

    pattern(None, ".old", status="retired")
    stores = pattern(None, ".store")
    assert claim().pattern.pk == stores.pk
    assert claim().pattern.spec == {"price_selector": ".store"}
    someone_else = pattern(django_user_model.objects.create_user(username="bob", password="x"), ".bob")
    mine = pattern(user, ".mine")
    got = claim().pattern
    assert (got.pk, got.owner_id, got.store_id, got.spec) == (mine.pk, user.pk, listing.store_id, {"price_selector": ".mine"})
    assert someone_else.pk != got.pk

    toaster = services.listing_add(owner=user, url="http://127.0.0.1:9/p/toaster", name="Toaster")
    mug = services.listing_add(owner=user, url="http://127.0.0.1:9/p/mug", name="Mug")
    assert toaster.store_id == mug.store_id == listing.store_id
    ListingPage.objects.create(listing=toaster, url=toaster.url, html="<p>t</p>", fetched_at=since.replace(hour=10))
    # Written before the cutoff: not counted.
    ListingPage.objects.create(listing=mug, url=mug.url, html="<p>m</p>", fetched_at=since.replace(hour=8))
    assert claim().page.store_pages_since == 1
    ListingPage.objects.create(listing=listing, url=listing.url, html="<p>k</p>", facts_hash="abc",
                               fetched_at=since.replace(hour=11))
    assert claim().page == rows.PageKept(facts_hash="abc", fetched_at=since.replace(hour=11), store_pages_since=None)


def test_a_conditional_update_changes_only_the_matching_row_and_says_so(check):
    claim = {
        "where": {"id": check.pk, "outcome": CheckLog.Outcome.QUEUED},
        "values": {"outcome": CheckLog.Outcome.RUNNING},
    }

    assert rows.row_update(CheckLog, **claim, add={"attempts": 1}) == 1
    assert rows.row_update(CheckLog, **claim, add={"attempts": 1}) == 0  # already taken

    check.refresh_from_db()
    assert (check.outcome, check.attempts) == (CheckLog.Outcome.RUNNING, 1)


def test_an_update_since_a_time_matches_rows_at_or_after_it_and_a_delete_takes_a_row_once(check):
    when = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    CheckLog.objects.filter(pk=check.pk).update(finished_at=when)
    later = when.replace(microsecond=1)

    assert rows.row_update(CheckLog, where={"id": check.pk}, since={"finished_at": later}, values={}, add={"checks": 1}) == 0
    assert rows.row_update(CheckLog, where={"id": check.pk}, since={"finished_at": when}, values={}, add={"checks": 1}) == 1
    assert CheckLog.objects.get(pk=check.pk).checks == 2
    assert rows.row_delete(CheckLog, where={"id": check.pk, "outcome": CheckLog.Outcome.RUNNING}) == 0
    assert rows.row_delete(CheckLog, where={"id": check.pk, "outcome": CheckLog.Outcome.QUEUED}) == 1
    assert rows.row_delete(CheckLog, where={"id": check.pk, "outcome": CheckLog.Outcome.QUEUED}) == 0


def test_an_update_writes_decimals_and_datetimes_that_read_back_equal(check):
    when = datetime(2026, 11, 24, 8, 15, 30, 123456, tzinfo=UTC)

    rows.row_update(
        Listing,
        where={"id": check.listing_id},
        values={"last_price": Decimal("12.50"), "last_checked_at": when, "title": "Żółw ‘quoted’"},
        add={"consecutive_failures": 2},
    )

    listing = Listing.objects.get(pk=check.listing_id)
    assert (listing.last_price, listing.last_checked_at, listing.title) == (
        Decimal("12.50"),
        when,
        "Żółw ‘quoted’",
    )
    assert listing.consecutive_failures == 2


def test_an_insert_returns_the_saved_row_with_its_new_key(check):
    point = rows.row_insert(
        PricePoint(
            listing_id=check.listing_id,
            check_log=check,
            price=Decimal("1039.99"),
            currency="USD",
            in_stock=True,
            checked_at=datetime(2026, 11, 24, tzinfo=UTC),
            method="json-ld",
        )
    )

    assert point.pk is not None and point._state.adding is False
    stored = PricePoint.objects.get(pk=point.pk)
    assert (stored.price, stored.check_log_id, stored.method) == (Decimal("1039.99"), check.pk, "json-ld")


def test_an_upsert_inserts_once_then_updates_the_same_row(check):
    def page(html: str) -> ListingPage:
        return ListingPage(
            listing_id=check.listing_id,
            url="http://127.0.0.1:9/p/kettle",
            html=html,
            facts_hash=html,
            truncated=False,
            fetched_at=datetime(2026, 11, 24, tzinfo=UTC),
        )

    rows.row_upsert(page("<p>one</p>"), unique="listing", update=("html_z", "facts_hash"))
    rows.row_upsert(page("<p>two ‘Żółw’</p>"), unique="listing", update=("html_z", "facts_hash"))

    # The compressed bytes read back whole, on either database.
    assert [page.html for page in ListingPage.objects.filter(listing_id=check.listing_id)] == ["<p>two ‘Żółw’</p>"]


def test_a_store_counts_its_sample_pages_written_since_a_time(check):
    since = datetime(2026, 11, 24, tzinfo=UTC)
    ListingPage.objects.create(listing_id=check.listing_id, url="http://127.0.0.1:9/p", html="<p>x</p>",
                               fetched_at=since.replace(hour=1))
    listing = Listing.objects.get(pk=check.listing_id)

    assert rows.store_pages_count(store_id=listing.store_id, since=since) == 1
    assert rows.store_pages_count(store_id=listing.store_id, since=since.replace(hour=2)) == 0
    assert rows.row_exists(ListingPage, where={"listing": listing.pk}, after={"fetched_at": since}) is True
    assert rows.row_exists(ListingPage, where={"listing": listing.pk}, after={"fetched_at": since.replace(hour=2)}) is False


def test_exists_is_true_only_for_a_matching_row(check):
    assert rows.row_exists(CheckLog, where={"id": check.pk, "outcome": CheckLog.Outcome.QUEUED}) is True
    assert rows.row_exists(CheckLog, where={"id": check.pk, "outcome": CheckLog.Outcome.OK}) is False
    assert rows.row_exists(Listing, where={"id": check.listing_id, "in_stock": False}) is True


def test_a_conditional_update_matches_null_and_decimals_as_stored(check):
    point = PricePoint.objects.create(listing_id=check.listing_id, price=Decimal("1299.99"), currency="PLN",
                                      in_stock=None, method="json-ld")
    same = {"id": point.pk, "price": Decimal("1299.99"), "currency": "PLN"}

    assert rows.row_update(PricePoint, where={**same, "in_stock": True}, values={"method": "x"}) == 0
    assert rows.row_update(PricePoint, where={**same, "price": Decimal("1299.98"), "in_stock": None},
                           values={"method": "x"}) == 0
    assert rows.row_update(PricePoint, where={**same, "in_stock": None}, values={"method": "pattern"},
                           add={"confirmations": 1}) == 1

    point.refresh_from_db()
    assert (point.method, point.confirmations) == ("pattern", 2)


def test_the_check_path_extends_the_current_price_point_and_starts_a_new_one_on_any_change(check):
    from tracker.extraction import Availability, ExtractionResult

    listing = Listing.objects.get(pk=check.listing_id)
    start = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    seen = []
    for hour, (price, currency, stock) in enumerate(
        [("12.50", "EUR", True), ("12.50", "EUR", True), ("12.5", "EUR", True), ("12.50", "EUR", False),
         ("12.50", "PLN", False), ("12.50", "PLN", False)]
    ):
        result = ExtractionResult(
            price=Decimal(price), currency=currency, method="json-ld",
            availability=Availability.IN_STOCK if stock else Availability.OUT_OF_STOCK,
        )
        one = CheckLog.objects.create(listing=listing, outcome="running")
        point, changed = checking._price_record(
            listing=listing, check=one, result=result, currency=currency, now=start.replace(hour=8 + hour)
        )
        listing.last_point_id = point.pk
        seen.append(changed)

    assert seen == [True, False, False, True, True, False]
    assert list(
        PricePoint.objects.filter(listing=listing).order_by("checked_at")
        .values_list("currency", "in_stock", "confirmations", "checked_at", "last_confirmed_at")
    ) == [
        ("EUR", True, 3, start, start.replace(hour=10)),
        ("EUR", False, 1, start.replace(hour=11), None),
        ("PLN", False, 2, start.replace(hour=12), start.replace(hour=13)),
    ]


# --- No signal receiver on what rows.py writes ----------------------------------------------------

_MODEL_SIGNALS = ("pre_save", "post_save", "pre_delete", "post_delete")


@pytest.mark.parametrize("model", sorted(rows.MODELS_WRITTEN, key=lambda m: m.__name__), ids=lambda m: m.__name__)
@pytest.mark.parametrize("signal_name", _MODEL_SIGNALS)
def test_no_model_signal_receiver_is_connected_to_a_model_the_raw_sql_writes(model, signal_name):
    # rows.py writes these models with plain SQL, so their save signals never fire on the check
    # path: a receiver connected to one would run for admin edits and silently not for checks.
    # Delete receivers are refused too: one that keeps something in sync on delete needs its
    # save counterpart, which would miss the check path.
    from django.db.models import signals

    signal = getattr(signals, signal_name)
    assert not signal.has_listeners(model), (
        f"a {signal_name} receiver is connected to {model.__name__}, which tracker/rows.py writes "
        "without signals: send tracker.signals.check_finished (or another explicit signal) instead"
    )


def test_rows_refuses_to_write_a_model_whose_signals_nobody_checks(check):
    with pytest.raises(TypeError, match="MODELS_WRITTEN"):
        rows.row_update(Store, where={"id": check.listing.store_id}, values={"render_js": False})


def test_the_check_statements_are_prepared_once_on_postgresql_and_read_the_same(check):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's (SQLite runs in-process)")
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    since = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    loaded = []
    for _ in range(3):
        CheckLog.objects.filter(pk=check.pk).update(outcome=CheckLog.Outcome.QUEUED)
        loaded.append(rows.check_claim(check_id=check.pk, at=at, pages_since=since))

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    # Planned once for this connection, not on every check.
    assert len([s for s in prepared if "WITH claimed AS (UPDATE" in s]) == 1
    # A prepared run reads what the first, unprepared one read.
    assert len({(c.check.pk, c.check.listing.last_price, c.check.listing.last_checked_at) for c in loaded}) == 1
    assert loaded[-1].check.listing.last_checked_at == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def test_the_check_statements_are_not_prepared_when_turned_off(check, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    for _ in range(3):
        rows.row_exists(CheckLog, where={"id": check.pk})

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == 0


def test_writes_run_together_in_order_and_say_how_many_rows_each_changed(check, django_assert_num_queries):
    running = {"id": check.pk, "outcome": CheckLog.Outcome.RUNNING}
    writes = [
        rows.update_write(CheckLog, where={"id": check.pk, "outcome": CheckLog.Outcome.QUEUED},
                          values={"outcome": CheckLog.Outcome.RUNNING}),
        rows.update_write(CheckLog, where={"id": check.pk, "outcome": CheckLog.Outcome.QUEUED},
                          values={"error": "not taken twice"}),
        rows.update_write(Listing, where={"id": check.listing_id}, values={"title": "Kettle"}, add={"consecutive_failures": 2}),
        rows.delete_write(CheckLog, where=running),
    ]

    # Each runs (on PostgreSQL in one pipeline, one round trip), and sees the ones before it.
    with django_assert_num_queries(4):
        assert rows.rows_write(writes) == [1, 0, 1, 1]

    assert not CheckLog.objects.filter(pk=check.pk).exists()
    listing = Listing.objects.get(pk=check.listing_id)
    assert (listing.title, listing.consecutive_failures) == ("Kettle", 2)

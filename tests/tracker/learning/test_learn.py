"""Learning, validating and counting store patterns (no LLM here: see test_llm.py)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.tracker.shop_pages import pages, shop_page, spec
from tracker.learning import health, learn, reads, samples
from tracker.models import ExtractionPattern, Listing, ListingPage, Product, Store

# --- with the database --------------------------------------------------------------------------


@pytest.fixture
def store(db, user):
    store = Store.objects.create(domain="shop.test")
    product = Product.objects.create(owner=user, name="things")
    for i in range(3):
        listing = Listing.objects.create(
            product=product, store=store, url=f"https://shop.test/p/{i}", status="no_price"
        )
        ListingPage.objects.create(listing=listing, url=listing.url, html=shop_page(i))
    return store


def test_heuristics_learn_a_pattern_without_any_llm(store, settings):
    settings.OPENAI_API_KEY = ""
    learned = learn.pattern_learn(store=store)
    assert learned.pattern.source == "heuristic" and learned.pattern.status == "active"
    assert len(learned.pattern.validated_on) == 3 and learned.llm_calls == 0


def test_learning_twice_keeps_the_pattern_that_still_validates(store, settings):
    settings.OPENAI_API_KEY = ""
    first = learn.pattern_learn(store=store).pattern
    again = learn.pattern_learn(store=store).pattern
    assert first == again and ExtractionPattern.objects.count() == 1


def test_a_new_version_retires_the_old_one_and_both_are_kept(store):
    one = learn.pattern_activate(store=store, spec=spec(".price-now"), source="person", pages=pages())
    two = learn.pattern_activate(
        store=store, spec=spec(".price-box .price-now"), source="person", pages=pages()
    )
    one.refresh_from_db()
    assert (one.version, one.status, two.version, two.status) == (1, "retired", 2, "active")


def test_a_store_cannot_have_two_active_patterns(store):
    ExtractionPattern.objects.create(store=store, version=1, spec={}, source="person")
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtractionPattern.objects.create(store=store, version=2, spec={}, source="person")


def test_failing_checks_put_the_pattern_on_probation_exactly_once(store, settings):
    pattern = learn.pattern_activate(store=store, spec=spec(".price-now"), source="person", pages=pages())
    moved = [
        health.pattern_record_use(pattern_id=pattern.pk, ok=False)
        for _ in range(settings.PATTERN_PROBATION_AFTER + 2)
    ]
    assert moved.count(True) == 1 and moved[settings.PATTERN_PROBATION_AFTER - 1] is True
    pattern.refresh_from_db()
    assert pattern.status == "probation" and pattern.failure_count == settings.PATTERN_PROBATION_AFTER + 2


def test_a_success_resets_the_run_of_failures(store, settings):
    pattern = learn.pattern_activate(store=store, spec=spec(".price-now"), source="person", pages=pages())
    for _ in range(settings.PATTERN_PROBATION_AFTER - 1):
        health.pattern_record_use(pattern_id=pattern.pk, ok=False)
    health.pattern_record_use(pattern_id=pattern.pk, ok=True)
    assert health.pattern_record_use(pattern_id=pattern.pk, ok=False) is False
    pattern.refresh_from_db()
    assert pattern.status == "active" and pattern.consecutive_failures == 1 and pattern.success_count == 1


def test_when_no_pattern_validates_after_a_redesign_the_store_and_its_listings_show_broken(store, settings):
    settings.OPENAI_API_KEY = ""
    old = learn.pattern_activate(store=store, spec=spec(".price-now"), source="person", pages=pages())
    ListingPage.objects.all().delete()
    for listing in Listing.objects.all():
        ListingPage.objects.create(
            listing=listing, url=listing.url, html=shop_page(int(listing.url[-1]), theme="v2")
        )
    assert health.pattern_health_check(store=store) == "failed"
    store.refresh_from_db()
    old.refresh_from_db()
    assert store.extraction_status == "broken" and old.status == "unhealthy"
    assert set(Listing.objects.values_list("status", flat=True)) == {"broken"}


def test_a_person_pattern_that_does_not_validate_is_not_saved(store):
    saved, problems = learn.pattern_save_person(store=store, spec=spec("del.was"))
    assert saved is None and problems and not ExtractionPattern.objects.exists()


def test_the_latest_page_is_kept_capped(store, settings):
    settings.LISTING_PAGE_MAX_CHARS = 100
    listing = Listing.objects.first()
    samples.listing_page_save(listing=listing, url=listing.url, html="x" * 500)
    page = ListingPage.objects.get(listing=listing)
    assert (
        len(page.html) == 100 and page.truncated and ListingPage.objects.filter(listing=listing).count() == 1
    )


def test_a_check_reads_the_active_pattern_as_the_orm_does(store):
    """Checks read the pattern with a query of their own (every check pays for it)."""
    assert reads.store_active_pattern_for_check(store_id=store.pk) is None
    learn.pattern_activate(store=store, spec=spec(".price-now"), source="person", pages=pages())
    active = learn.pattern_activate(
        store=store, spec=spec(".price-box .price-now"), source="person", pages=pages()
    )

    read = reads.store_active_pattern_for_check(store_id=store.pk)

    assert read.pk == active.pk
    assert reads.pattern_spec(read) == reads.pattern_spec(
        reads.store_active_pattern(store_id=store.pk)
    )
    assert reads.pattern_spec(read).price.selector == ".price-box .price-now"

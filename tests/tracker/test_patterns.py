"""Learning, validating and counting store patterns (no LLM here: see test_llm.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tests.tracker.shop_pages import shop_page
from tracker import patterns
from tracker.extraction.patterns import FieldRule, PatternSpec
from tracker.llm import SamplePage
from tracker.models import ExtractionPattern, Listing, ListingPage, Product, Store


def spec(selector: str, kind: str = "css", attribute: str | None = None) -> PatternSpec:
    return PatternSpec(price=FieldRule(selector=selector, kind=kind, attribute=attribute))


def pages(theme: str = "v1", count: int = 3) -> list[SamplePage]:
    return [SamplePage(f"https://shop.test/p/{i}", shop_page(i, theme=theme)) for i in range(count)]


def test_a_selector_that_reads_each_pages_price_validates():
    assert patterns.spec_problems(spec(".price-box .price-now"), pages()) == []


def test_the_crossed_out_was_price_does_not_validate():
    problems = patterns.spec_problems(spec("del.was"), pages())
    assert problems and all("'was' price" in p for p in problems)


def test_a_selector_matching_several_prices_does_not_validate():
    problems = patterns.spec_problems(spec(".rec-price"), pages())
    assert any("different values" in p for p in problems)


def test_a_selector_from_the_old_design_does_not_validate_on_the_new_one():
    problems = patterns.spec_problems(spec(".price-now"), pages("v2"))
    assert len(problems) == 3 and all("matches nothing" in p for p in problems)


def test_a_price_disagreeing_with_structured_data_does_not_validate():
    page = SamplePage("https://shop.test/p/0", shop_page(0, structured=True).replace('"price": "149.00"', '"price": "129.00"'))
    problems = patterns.spec_problems(spec(".price-now"), [page])
    assert problems == ["price on https://shop.test/p/0: the selector reads 149.00 but the page's structured data says 129.00"]


def _page(body: str) -> SamplePage:
    return SamplePage("https://shop.test/p/1", f"<html><body><h1>Wool jumper</h1>{body}</body></html>")


def test_one_end_of_a_price_range_does_not_validate():
    page = _page('<div class="prices"><span class="low">$12.97</span> - <span class="high">$24.99</span></div>')
    problems = patterns.spec_problems(spec(".low"), [page])
    assert problems == ["price on https://shop.test/p/1: '.low' picks one end of a price range (12.97)"]


def test_a_from_price_over_options_with_their_own_prices_does_not_validate():
    options = "".join(f"<option>{size} - £{price}</option>" for size, price in [("Single", "1,049"), ("Double", "1,249")])
    page = _page(f'<div class="buy"><p id="price">From £1,049.00</p><select>{options}</select></div>')
    problems = patterns.spec_problems(spec("#price"), [page])
    assert problems == ["price on https://shop.test/p/1: '#price' picks a 'from' price, the lowest of several options (1049.00)"]


def test_a_from_price_with_no_options_beside_it_validates():
    page = _page('<div class="buy"><p id="price">Starting from $999.00</p><button>Add to cart</button></div>')
    assert patterns.spec_problems(spec("#price"), [page]) == []


def test_xpath_that_reads_files_is_refused_before_any_page_is_read():
    problems = patterns.spec_problems(spec("document('/etc/passwd')", kind="xpath"), pages())
    assert len(problems) == 1 and "not allowed" in problems[0]


def test_an_optional_field_missing_on_one_page_is_tolerated_but_not_on_all():
    with_stock = PatternSpec(price=FieldRule(".price-now"), availability=FieldRule(".stock"))
    assert any("matches nothing on any page" in p for p in patterns.spec_problems(with_stock, pages()))


@pytest.mark.parametrize(
    ("price", "reference", "jump"),
    [("1490.00", "149.00", True), ("14.90", "149.00", True), ("299.00", "149.00", False), ("15.00", "149.00", False)],
)
def test_a_price_ten_times_off_its_history_is_a_jump(price, reference, jump):
    assert patterns.price_jump(price=Decimal(price), reference=Decimal(reference)) is jump


# --- with the database --------------------------------------------------------------------------


@pytest.fixture
def store(db, user):
    store = Store.objects.create(domain="shop.test")
    product = Product.objects.create(owner=user, name="things")
    for i in range(3):
        listing = Listing.objects.create(product=product, store=store, url=f"https://shop.test/p/{i}", status="no_price")
        ListingPage.objects.create(listing=listing, url=listing.url, html=shop_page(i))
    return store


def test_heuristics_learn_a_pattern_without_any_llm(store, settings):
    settings.OPENAI_API_KEY = ""
    learned = patterns.pattern_learn(store=store)
    assert learned.pattern.source == "heuristic" and learned.pattern.status == "active"
    assert len(learned.pattern.validated_on) == 3 and learned.llm_calls == 0


def test_learning_twice_keeps_the_pattern_that_still_validates(store, settings):
    settings.OPENAI_API_KEY = ""
    first = patterns.pattern_learn(store=store).pattern
    again = patterns.pattern_learn(store=store).pattern
    assert first == again and ExtractionPattern.objects.count() == 1


def test_a_new_version_retires_the_old_one_and_both_are_kept(store):
    one = patterns.pattern_activate(store=store, spec=spec(".price-now"), source="person", pages=pages())
    two = patterns.pattern_activate(store=store, spec=spec(".price-box .price-now"), source="person", pages=pages())
    one.refresh_from_db()
    assert (one.version, one.status, two.version, two.status) == (1, "retired", 2, "active")


def test_a_store_cannot_have_two_active_patterns(store):
    ExtractionPattern.objects.create(store=store, version=1, spec={}, source="person")
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtractionPattern.objects.create(store=store, version=2, spec={}, source="person")


def test_failing_checks_put_the_pattern_on_probation_exactly_once(store, settings):
    pattern = patterns.pattern_activate(store=store, spec=spec(".price-now"), source="person", pages=pages())
    moved = [patterns.pattern_record_use(pattern_id=pattern.pk, ok=False) for _ in range(settings.PATTERN_PROBATION_AFTER + 2)]
    assert moved.count(True) == 1 and moved[settings.PATTERN_PROBATION_AFTER - 1] is True
    pattern.refresh_from_db()
    assert pattern.status == "probation" and pattern.failure_count == settings.PATTERN_PROBATION_AFTER + 2


def test_a_success_resets_the_run_of_failures(store, settings):
    pattern = patterns.pattern_activate(store=store, spec=spec(".price-now"), source="person", pages=pages())
    for _ in range(settings.PATTERN_PROBATION_AFTER - 1):
        patterns.pattern_record_use(pattern_id=pattern.pk, ok=False)
    patterns.pattern_record_use(pattern_id=pattern.pk, ok=True)
    assert patterns.pattern_record_use(pattern_id=pattern.pk, ok=False) is False
    pattern.refresh_from_db()
    assert pattern.status == "active" and pattern.consecutive_failures == 1 and pattern.success_count == 1


def test_when_no_pattern_validates_after_a_redesign_the_store_and_its_listings_show_broken(store, settings):
    settings.OPENAI_API_KEY = ""
    old = patterns.pattern_activate(store=store, spec=spec(".price-now"), source="person", pages=pages())
    ListingPage.objects.all().delete()
    for listing in Listing.objects.all():
        ListingPage.objects.create(listing=listing, url=listing.url, html=shop_page(int(listing.url[-1]), theme="v2"))
    assert patterns.pattern_health_check(store=store) == "failed"
    store.refresh_from_db()
    old.refresh_from_db()
    assert store.extraction_status == "broken" and old.status == "unhealthy"
    assert set(Listing.objects.values_list("status", flat=True)) == {"broken"}


def test_a_person_pattern_that_does_not_validate_is_not_saved(store):
    saved, problems = patterns.pattern_save_person(store=store, spec=spec("del.was"))
    assert saved is None and problems and not ExtractionPattern.objects.exists()


def test_the_latest_page_is_kept_capped(store, settings):
    settings.LISTING_PAGE_MAX_CHARS = 100
    listing = Listing.objects.first()
    patterns.listing_page_save(listing=listing, url=listing.url, html="x" * 500)
    page = ListingPage.objects.get(listing=listing)
    assert len(page.html) == 100 and page.truncated and ListingPage.objects.filter(listing=listing).count() == 1


def test_a_sold_out_page_without_any_price_does_not_fail_validation():
    sold_out = SamplePage("https://shop.test/p/9", "<html><body><h1>Gone Chair</h1><p class='stock'>Sold out</p></body></html>")
    assert patterns.spec_problems(spec(".price-box .price-now"), [*pages(), sold_out]) == []
    assert patterns.spec_problems(spec(".price-box .price-now"), [sold_out]) == [
        "price: '.price-box .price-now' reads no price on any page"
    ]


def test_a_check_reads_the_active_pattern_as_the_orm_does(store):
    """Checks read the pattern with a query of their own (every check pays for it)."""
    assert patterns.store_active_pattern_for_check(store_id=store.pk) is None
    patterns.pattern_activate(store=store, spec=spec(".price-now"), source="person", pages=pages())
    active = patterns.pattern_activate(store=store, spec=spec(".price-box .price-now"), source="person", pages=pages())

    read = patterns.store_active_pattern_for_check(store_id=store.pk)

    assert read.pk == active.pk
    assert patterns.pattern_spec(read) == patterns.pattern_spec(patterns.store_active_pattern(store_id=store.pk))
    assert patterns.pattern_spec(read).price.selector == ".price-box .price-now"

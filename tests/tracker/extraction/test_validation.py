"""Whether a pattern is trusted on a store's pages (tracker.extraction.validation): pure, on
the test shop's pages of both designs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.tracker.shop_pages import pages, shop_page, spec
from tracker.extraction import validation
from tracker.extraction.patterns import FieldRule, PatternSpec
from tracker.learning.llm import SamplePage


def test_a_selector_that_reads_each_pages_price_validates():
    assert validation.spec_problems(spec(".price-box .price-now"), pages()) == []


def test_the_crossed_out_was_price_does_not_validate():
    problems = validation.spec_problems(spec("del.was"), pages())
    assert problems and all("'was' price" in p for p in problems)


def test_a_selector_matching_several_prices_does_not_validate():
    problems = validation.spec_problems(spec(".rec-price"), pages())
    assert any("different values" in p for p in problems)


def test_a_selector_from_the_old_design_does_not_validate_on_the_new_one():
    problems = validation.spec_problems(spec(".price-now"), pages("v2"))
    assert len(problems) == 3 and all("matches nothing" in p for p in problems)


def test_a_price_disagreeing_with_structured_data_does_not_validate():
    page = SamplePage(
        "https://shop.test/p/0",
        shop_page(0, structured=True).replace('"price": "149.00"', '"price": "129.00"'),
    )
    problems = validation.spec_problems(spec(".price-now"), [page])
    assert problems == [
        "price on https://shop.test/p/0: the selector reads 149.00 but the page's structured data says 129.00"
    ]


def _page(body: str) -> SamplePage:
    return SamplePage("https://shop.test/p/1", f"<html><body><h1>Wool jumper</h1>{body}</body></html>")


def test_one_end_of_a_price_range_does_not_validate():
    page = _page(
        '<div class="prices"><span class="low">$12.97</span> - <span class="high">$24.99</span></div>'
    )
    problems = validation.spec_problems(spec(".low"), [page])
    assert problems == ["price on https://shop.test/p/1: '.low' picks one end of a price range (12.97)"]


def test_a_from_price_over_options_with_their_own_prices_does_not_validate():
    options = "".join(
        f"<option>{size} - £{price}</option>" for size, price in [("Single", "1,049"), ("Double", "1,249")]
    )
    page = _page(f'<div class="buy"><p id="price">From £1,049.00</p><select>{options}</select></div>')
    problems = validation.spec_problems(spec("#price"), [page])
    assert problems == [
        "price on https://shop.test/p/1: '#price' picks a 'from' price, the lowest of several options (1049.00)"
    ]


def test_a_from_price_with_no_options_beside_it_validates():
    page = _page('<div class="buy"><p id="price">Starting from $999.00</p><button>Add to cart</button></div>')
    assert validation.spec_problems(spec("#price"), [page]) == []


def test_xpath_that_reads_files_is_refused_before_any_page_is_read():
    problems = validation.spec_problems(spec("document('/etc/passwd')", kind="xpath"), pages())
    assert len(problems) == 1 and "not allowed" in problems[0]


def test_an_optional_field_missing_on_one_page_is_tolerated_but_not_on_all():
    with_stock = PatternSpec(price=FieldRule(".price-now"), availability=FieldRule(".stock"))
    assert any("matches nothing on any page" in p for p in validation.spec_problems(with_stock, pages()))


@pytest.mark.parametrize(
    ("price", "reference", "jump"),
    [
        ("1490.00", "149.00", True),
        ("14.90", "149.00", True),
        ("299.00", "149.00", False),
        ("15.00", "149.00", False),
    ],
)
def test_a_price_ten_times_off_its_history_is_a_jump(price, reference, jump):
    assert validation.price_jump(price=Decimal(price), reference=Decimal(reference)) is jump


def test_a_sold_out_page_without_any_price_does_not_fail_validation():
    sold_out = SamplePage(
        "https://shop.test/p/9", "<html><body><h1>Gone Chair</h1><p class='stock'>Sold out</p></body></html>"
    )
    assert validation.spec_problems(spec(".price-box .price-now"), [*pages(), sold_out]) == []
    assert validation.spec_problems(spec(".price-box .price-now"), [sold_out]) == [
        "price: '.price-box .price-now' reads no price on any page"
    ]

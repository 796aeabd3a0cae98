"""The extraction pipeline on hand-written product-page templates and on small pages."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tracker.extraction import Availability, extract
from tracker.extraction.patterns import FieldRule, PatternSpec

TEMPLATES = Path(__file__).resolve().parents[2] / "fixtures" / "templates"
EXPECTED: dict[str, dict] = json.loads((TEMPLATES / "expected.json").read_text())


def test_there_are_at_least_forty_templates():
    assert len(EXPECTED) >= 40
    assert all((TEMPLATES / name).exists() for name in EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_template_price_currency_and_stock(name):
    expected = EXPECTED[name]
    result = extract((TEMPLATES / name).read_bytes())

    if expected["price"] is None:
        assert result.price is None, f"{name}: {expected['note']} - got {result.price}"
        assert result.reason
    else:
        assert result.price == Decimal(expected["price"]), result.reason
        assert result.currency == expected["currency"]
        assert result.confidence > 0
    if expected["availability"]:
        assert result.availability == Availability(expected["availability"])


def _page(body: str, head: str = "") -> str:
    return f"<html><head><title>Kettle</title>{head}</head><body><h1>Kettle</h1>{body}</body></html>"


JSONLD_24_99 = (
    '<script type="application/ld+json">{"@type":"Product","name":"Kettle",'
    '"offers":{"@type":"Offer","price":"24.99","priceCurrency":"USD"}}</script>'
)


def test_structured_price_shown_on_the_page_is_trusted():
    result = extract(_page('<span class="price">$24.99</span>', JSONLD_24_99))
    assert result.price == Decimal("24.99")
    assert result.method == "json-ld"
    assert result.confidence >= 0.9
    assert not result.flagged


def test_pattern_that_disagrees_with_structured_data_flags_instead_of_picking():
    html = _page('<span class="price">$24.99</span><span class="promo">$19.99</span>', JSONLD_24_99)
    pattern = PatternSpec(price=FieldRule(".promo"))

    result = extract(html, pattern=pattern)

    assert result.flagged
    assert result.price is None
    assert {d["price"] for d in result.disagreements} == {"24.99", "19.99"}
    assert "disagree" in result.reason


def test_pattern_answers_when_there_is_no_structured_data():
    html = _page('<div id="buy"><b class="amount">€ 12,90</b></div><div class="related"><b class="amount">€ 3,00</b></div>')
    result = extract(html, pattern=PatternSpec(price=FieldRule("#buy .amount")))
    assert result.price == Decimal("12.90")
    assert result.currency == "EUR"
    assert result.method == "pattern"


def test_pattern_matching_several_values_gives_no_price_from_the_pattern():
    html = _page('<b class="amount">$5.00</b><b class="amount">$7.00</b>')
    result = extract(html, pattern=PatternSpec(price=FieldRule(".amount")), use_heuristics=False)
    assert result.price is None
    assert "2 different values" in result.reason


def test_structured_price_the_page_contradicts_is_flagged():
    head = '<meta property="og:title" content="Kettle"><meta property="product:price:amount" content="26.50">'
    result = extract(_page('<div class="product-price">$94.00</div>', head))
    assert result.price is None
    assert result.flagged
    assert result.disagreements


def test_structured_price_without_visible_price_is_believed_with_less_confidence():
    head = '<meta property="og:title" content="Kettle"><meta property="product:price:amount" content="26.50"><meta property="product:price:currency" content="EUR">'
    result = extract(_page("<p>Price loads with JavaScript</p>", head))
    assert result.price == Decimal("26.50")
    assert result.currency == "EUR"
    assert result.confidence < 0.9


def test_heuristics_can_be_switched_off():
    result = extract(_page('<span class="price">$18.00</span>'), use_heuristics=False)
    assert result.price is None
    assert result.reason


def test_heuristic_result_carries_a_selector_that_finds_the_price():
    result = extract(_page('<div id="product-price">$18.00</div>'))
    assert result.method == "heuristic"
    assert result.selector == "#product-price"


@pytest.mark.parametrize("html", ["", "   ", b"", "<<<>>>", "\x00\x01binary", "%PDF-1.4 obj"])
def test_junk_input_gives_a_reason_not_an_exception(html):
    result = extract(html)
    assert result.price is None
    assert result.reason


def test_megabytes_of_junk_html_are_cut_off_and_do_not_blow_up():
    html = "<html><body><h1>X</h1>" + "<div><span>$1.00 junk</span>" * 300_000 + "</body></html>"
    result = extract(html)
    assert result.price is None


def test_deeply_nested_html_does_not_blow_up():
    html = "<html><body><h1>Deep</h1>" + "<div>" * 50_000 + '<span class="price">$3.00</span>' + "</div>" * 50_000
    extract(html)


def test_bytes_with_a_lying_charset_are_read_as_utf8():
    html = '<html><head><meta charset="iso-8859-1"><title>Lamp</title></head><body><h1>Lamp</h1><p class="price">£579.99</p></body></html>'
    result = extract(html.encode("utf-8"))
    assert result.price == Decimal("579.99")
    assert result.currency == "GBP"


def test_result_serialises_to_json():
    data = extract(_page('<span class="price">$24.99</span>', JSONLD_24_99)).as_dict()
    assert json.loads(json.dumps(data))["price"] == "24.99"


def test_conflicting_structured_offers_are_settled_by_the_visible_price():
    head = (
        '<script type="application/ld+json">{"@type":"Product","name":"Kettle","offers":['
        '{"@type":"Offer","price":"15.00","priceCurrency":"USD"},'
        '{"@type":"Offer","price":"32.00","priceCurrency":"USD"}]}</script>'
    )
    settled = extract(_page('<span class="price">$32.00</span>', head))
    assert settled.price == Decimal("32.00")
    assert settled.method == "json-ld+heuristic"

    contradicted = extract(_page('<span class="price">$45.00</span>', head))
    assert contradicted.price is None
    assert contradicted.flagged


def test_a_structured_range_alone_gives_no_price():
    head = (
        '<script type="application/ld+json">{"@type":"Product","name":"Kettle","offers":'
        '{"@type":"AggregateOffer","lowPrice":"10.00","highPrice":"20.00","priceCurrency":"USD"}}</script>'
    )
    result = extract(_page('<span class="price">$10.00 - $20.00</span>', head))
    assert result.price is None
    assert "range" in result.reason


def test_structured_price_beside_a_hidden_was_label_is_trusted_when_the_page_reads_it_as_the_price():
    body = '\n<div style="display:none">\n<span>RRP:</span>\n</div>\n<div class="buy">\n<em class="price">$24.99</em>\n</div>'
    result = extract(_page(body, JSONLD_24_99))
    assert result.price == Decimal("24.99")
    assert result.method == "json-ld"
    assert not result.flagged


def test_structured_price_shown_only_as_a_was_price_is_still_flagged():
    body = '\n<div class="buy">Was: $24.99 <span class="price">$19.99</span></div>'
    result = extract(_page(body, JSONLD_24_99))
    assert result.price is None
    assert result.flagged


def _net_gross_page(gross: str) -> str:
    head = (
        '<script type="application/ld+json">{"@type":"Product","name":"Kettle",'
        '"offers":{"@type":"Offer","price":"4.92","priceCurrency":"EUR"}}</script>'
    )
    body = (
        '\n<div class="price-box">\n<span class="price-excluding-tax"><span class="label">zzgl. MwSt (21%):</span>\n'
        '<span class="price">4,92 €</span></span>\n<span class="price-including-tax">'
        f'<span class="label">Inkl. MwSt (21%):</span>\n<span class="price">{gross} €</span></span>\n</div>'
    )
    return _page(body, head)


def test_a_structured_net_price_gives_way_to_the_gross_price_the_page_shows():
    result = extract(_net_gross_page("5,95"))
    assert result.price == Decimal("5.95")
    assert result.currency == "EUR"
    assert not result.flagged


def test_a_structured_net_price_beside_an_amount_that_is_not_its_gross_is_flagged():
    result = extract(_net_gross_page("7,95"))
    assert result.price is None
    assert result.flagged


def _sale_in_meta_page(body: str = "<p>Price loads with JavaScript</p>") -> str:
    head = (
        '<script type="application/ld+json">{"@type":"Product","name":"Kettle",'
        '"offers":{"@type":"Offer","price":"150.00","priceCurrency":"USD"}}</script>'
        '<meta property="og:title" content="Kettle"><meta property="og:price:standard_amount" content="150.00">'
        '<meta property="product:price:amount" content="120.00"><meta property="product:price:currency" content="USD">'
    )
    return _page(body, head)


def test_a_meta_sale_price_beside_its_regular_price_settles_a_structured_regular_price():
    result = extract(_sale_in_meta_page())
    assert result.price == Decimal("120.00")
    assert result.method == "opengraph"


def test_a_page_showing_the_regular_price_beats_a_meta_sale_price():
    result = extract(_sale_in_meta_page('\n<div class="product-price">$150.00</div>'))
    assert result.price == Decimal("150.00")
    assert result.method == "json-ld+heuristic"


def test_a_meta_sale_price_the_page_contradicts_is_flagged():
    result = extract(_sale_in_meta_page('\n<div class="product-price">$135.00</div>'))
    assert result.price is None
    assert result.flagged


TWO_OFFERS = (
    '<script type="application/ld+json">{"@type":"Product","name":"Kettle","offers":['
    '{"@type":"Offer","price":"15.00","priceCurrency":"USD"},'
    '{"@type":"Offer","price":"32.00","priceCurrency":"USD"}]}</script>'
)


def test_structured_offers_settle_an_undecided_page_when_one_of_them_is_shown():
    body = (
        '<div class="main"><div><b>$32.00</b></div><h1>Kettle</h1></div>\n'
        '<div class="use-with"><div><span class="price">$40.00</span></div></div>\n'
        '<div class="use-with"><div><span class="price">$28.00</span></div></div>'
    )
    result = extract(f"<html><head><title>Kettle</title>{TWO_OFFERS}</head><body>{body}</body></html>")
    assert result.price == Decimal("32.00")
    assert result.method == "json-ld+heuristic"


def test_structured_offers_both_shown_alike_give_no_price():
    body = '<div><span class="price">$15.00</span></div><div><span class="price">$32.00</span></div>'
    result = extract(_page(body, TWO_OFFERS))
    assert result.price is None
    assert "compete" in result.reason


def test_a_structured_offer_shown_only_among_other_products_settles_nothing():
    body = (
        '<div class="buy"><span class="price">$40.00</span></div>\n<div class="buy"><span class="price">$28.00</span></div>\n'
        '<div class="related-products"><span class="price">$32.00</span></div>'
    )
    result = extract(_page(body, TWO_OFFERS))
    assert result.price is None


STRIKETHROUGH_SPEC = (
    '<script type="application/ld+json">{"@type":"Product","name":"Kettle","offers":{"@type":"Offer",'
    '"priceCurrency":"USD","priceSpecification":['
    '{"@type":"UnitPriceSpecification","priceType":"https://schema.org/StrikethroughPrice","price":"40.00"},'
    '{"@type":"UnitPriceSpecification","price":"30.00"}]}}</script>'
)


@pytest.mark.parametrize(
    "body", ["<p>Price loads with JavaScript</p>", '\n<div class="buy">\n<del>$40.00</del>\n<span class="price">$30.00</span></div>']
)
def test_a_strikethrough_price_specification_is_not_the_price(body):
    result = extract(_page(body, STRIKETHROUGH_SPEC))
    assert result.price == Decimal("30.00")
    assert result.method == "json-ld"

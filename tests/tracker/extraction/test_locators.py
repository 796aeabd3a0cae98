"""Stable selectors for the price element (tracker.extraction.locators), as the heuristics derive them."""

from decimal import Decimal

from tracker.extraction.heuristics import heuristic_price
from tracker.extraction.locators import derive_selector
from tracker.extraction.parsing import parse_html
from tracker.extraction.patterns import apply_rule


def _find(body: str, *, lang: str = "en"):
    tree = parse_html(f'<html lang="{lang}"><head><title>Teapot</title></head><body>{body}</body></html>')
    return tree, heuristic_price(tree)


def test_selector_prefers_a_stable_id():
    _, found = _find('<h1>Teapot</h1><div class="a"><span id="product-price" class="x1">$30.00</span></div>')
    assert found.selector.selector == "#product-price"


def test_selector_avoids_generated_ids_and_classes():
    _, found = _find(
        '<h1>Teapot</h1><div class="pdp"><span id="price-8f3a9c2d11" class="css-1x2y3z sc-AbCdE price-current">$30.00</span></div>'
    )
    selector = found.selector.selector
    assert "8f3a9c2d11" not in selector and "css-" not in selector and "sc-" not in selector
    assert "price-current" in selector
    assert ":nth" not in selector


def test_selector_uses_itemprop():
    _, found = _find('<h1>Teapot</h1><span itemprop="price" content="30.00">$30.00</span>')
    assert 'itemprop="price"' in found.selector.selector


def test_selector_is_qualified_by_a_stable_ancestor_when_the_class_repeats():
    tree, found = _find(
        '<div id="buybox"><h1>Teapot</h1><span class="price">$30.00</span></div>'
        '<div class="related-products"><span class="price">$12.00</span></div>'
    )
    assert found.selector.selector == "#buybox span.price"
    assert apply_rule(tree, found.selector) == "$30.00"


def test_derived_selector_is_verified_to_pick_the_same_value():
    tree = parse_html('<html><body><h1>T</h1><span class="price">$30.00</span><span class="price">$12.00</span></body></html>')
    element = tree.xpath("//span")[0]
    rule = derive_selector(tree, element, Decimal("30.00"))
    assert rule is None or apply_rule(tree, rule) == "$30.00"


def test_no_selector_when_nothing_stable_names_the_element():
    tree = parse_html("<html><body><div><div><span>$30.00</span></div><div><span>$12.00</span></div></div></body></html>")
    element = tree.xpath("//span")[0]
    assert derive_selector(tree, element, Decimal("30.00")) is None

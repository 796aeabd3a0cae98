"""Applying stored patterns safely: CSS and a whitelisted XPath 1.0, one value per selector."""

from decimal import Decimal

import pytest

from tracker.extraction.parsing import parse_html
from tracker.extraction.patterns import (
    FieldRule,
    PatternSpec,
    SelectorError,
    apply_pattern,
    apply_rule,
    validate_selector,
)
from tracker.extraction.result import Availability

PAGE = parse_html(
    """<html><body><h1 class="title">Teapot</h1>
    <div id="buy"><span class="price" content="30.00">$30.00</span><del class="price">$40.00</del>
    <span class="stock">In stock</span><img class="main" src="/t.jpg"></div>
    <div class="related"><span class="price">$12.00</span></div></body></html>"""
)


@pytest.mark.parametrize(
    ("selector", "kind"),
    [
        ("#buy span.price", "css"),
        ("div > span[content]", "css"),
        ("//div[@id='buy']/span[contains(@class, 'price')]", "xpath"),
        ("normalize-space(//div[@id='buy']/span[1])", "xpath"),
        ("//span[@class='price'][1]/ancestor::div[1]//span[@class='stock']", "xpath"),
        ("//*[starts-with(@id, 'bu')]//span[position() = 1]", "xpath"),
    ],
)
def test_safe_selectors_are_accepted(selector, kind):
    validate_selector(selector, kind=kind)


@pytest.mark.parametrize(
    "selector",
    [
        "document('file:///etc/passwd')",
        "doc('http://example.invalid/x')",
        "unparsed-text('/etc/passwd')",
        "//span[. = $secret]",
        "exsl:node-set(//span)",
        "php:function('system', 'id')",
        "str:tokenize(//span, ',')",
        "re:test(//span, 'x')",
        "//span[generate-id()]",
        "system-property('xsl:vendor')",
        "//span[contains(., 'a)]",
        "//a[",
        "",
        "x" * 600,
    ],
)
def test_unsafe_or_broken_xpath_is_refused(selector):
    with pytest.raises(SelectorError):
        validate_selector(selector, kind="xpath")


def test_function_names_inside_string_literals_are_not_calls():
    validate_selector("//span[@data-x='document(1)']", kind="xpath")


@pytest.mark.parametrize("selector", ["span[", "::", "div >> p", ""])
def test_broken_css_is_refused(selector):
    with pytest.raises(SelectorError):
        validate_selector(selector, kind="css")


def test_unknown_kind_and_bad_post_regex_are_refused():
    with pytest.raises(SelectorError):
        validate_selector("span", kind="jquery")
    with pytest.raises(SelectorError):
        validate_selector("span", post="(a)(b)")
    with pytest.raises(SelectorError):
        validate_selector("span", post="(unclosed")


def test_apply_pattern_reads_every_field():
    spec = PatternSpec(
        price=FieldRule("#buy span.price"),
        availability=FieldRule(".stock"),
        title=FieldRule("h1.title"),
        image=FieldRule("img.main", attribute="src"),
    )
    match = apply_pattern(PAGE, spec)
    assert match.ok
    assert match.price == Decimal("30.00")
    assert match.currency == "USD"
    assert match.availability == Availability.IN_STOCK
    assert match.title == "Teapot"
    assert match.image == "/t.jpg"


def test_attribute_and_post_regex():
    spec = PatternSpec(price=FieldRule("#buy span.price", attribute="content", post=r"(\d+)\."), default_currency="EUR")
    match = apply_pattern(PAGE, spec)
    assert match.price == Decimal("30.00")
    assert match.currency == "EUR"


def test_a_selector_matching_several_values_is_an_error_not_a_guess():
    match = apply_pattern(PAGE, PatternSpec(price=FieldRule(".price")))
    assert not match.ok
    assert match.price is None
    assert "different values" in match.errors["price"]


def test_a_selector_matching_nothing_is_an_error():
    match = apply_pattern(PAGE, PatternSpec(price=FieldRule("#nope")))
    assert not match.ok
    assert "matches nothing" in match.errors["price"]


def test_an_unsafe_selector_in_a_stored_pattern_is_reported_not_run():
    match = apply_pattern(PAGE, PatternSpec(price=FieldRule("document('/etc/passwd')", kind="xpath")))
    assert not match.ok
    assert "not allowed" in match.errors["price"]


def test_xpath_returning_a_string_is_a_value():
    rule = FieldRule("string(//div[@id='buy']/span[1])", kind="xpath")
    assert apply_rule(PAGE, rule) == "$30.00"


def test_a_range_read_by_a_pattern_is_not_a_price():
    tree = parse_html('<html><body><p id="p">$20.00 - $40.00</p></body></html>')
    match = apply_pattern(tree, PatternSpec(price=FieldRule("#p")))
    assert match.price is None
    assert "range" in match.errors["price"]


def test_pattern_spec_round_trips_through_a_dict():
    spec = PatternSpec(price=FieldRule("#p", attribute="content"), default_currency="EUR")
    assert PatternSpec.from_dict(spec.as_dict()) == spec
    with pytest.raises(ValueError):
        PatternSpec.from_dict({"currency": {"selector": "x"}})

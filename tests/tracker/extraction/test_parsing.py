"""Reading amounts, currencies and stock words as shops print them."""

from decimal import Decimal

import pytest

from tracker.extraction.parsing import (
    availability_from_text,
    find_amounts,
    number_value,
    parse_amount,
    parse_availability,
    parse_currency,
    parse_html,
)
from tracker.extraction.result import Availability


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("$1,299.99", "1299.99"),
        ("1.299,00 €", "1299.00"),
        ("£5", "5.00"),
        ("12,50 zł", "12.50"),
        ("¥1,280", "1280.00"),
        ("CHF 1'299.00", "1299.00"),
        ("1 299,00 kr", "1299.00"),
        ("19,- €", "19.00"),
        ("AED26.00", "26.00"),
        ("USD$410.00", "410.00"),
        ("199.99 $", "199.99"),
        ("Price£340.00 (inc VAT)", "340.00"),
        ("69.990000000000", "69.99"),
        ("1299", "1299.00"),
        (24.5, "24.50"),
        ("R$ 64,99", "64.99"),
    ],
)
def test_it_reads_amounts_in_shop_formats(text, amount):
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize("text", [None, "", "free", "0.00", "-5", True, "x" * 300, "NaN", float("inf")])
def test_it_refuses_what_is_not_a_price(text):
    assert parse_amount(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,299", "1299"), ("1.299", "1299"), ("0.125", "0.125"), ("12,5", "12.5"), ("1.234.567,89", "1234567.89")],
)
def test_number_value_tells_thousands_from_decimals(text, value):
    assert number_value(text) == Decimal(value)


def test_find_amounts_lists_each_price_with_its_currency():
    found = find_amounts("Price: $12.48 ($6.24 / Pack) or 10x R$ 6,29")
    assert [(t.amount, t.currency) for t in found] == [
        (Decimal("12.48"), "USD"),
        (Decimal("6.24"), "USD"),
        (Decimal("6.29"), "BRL"),
    ]


def test_find_amounts_ignores_bare_numbers():
    assert find_amounts("Model 2024, 4.5 stars from 1,203 reviews") == []


@pytest.mark.parametrize(
    ("value", "code"),
    [("USD", "USD"), ("eur", "EUR"), ("$", "USD"), ("€", "EUR"), ("£", "GBP"), ("zł", "PLN"), ("R$", "BRL"), ("¥", "JPY"), ("", None)],
)
def test_parse_currency(value, code):
    assert parse_currency(value) == code


@pytest.mark.parametrize(
    ("value", "availability"),
    [
        ("https://schema.org/InStock", Availability.IN_STOCK),
        ("http://schema.org/In Stock", Availability.IN_STOCK),
        ("OutOfStock", Availability.OUT_OF_STOCK),
        ("BackOrder", Availability.OUT_OF_STOCK),
        ("in stock", Availability.IN_STOCK),
        ("LimitedAvailability", Availability.IN_STOCK),
        ("", None),
        ("maybe", None),
    ],
)
def test_parse_availability(value, availability):
    assert parse_availability(value) == availability


@pytest.mark.parametrize(
    ("text", "availability"),
    [
        ("Sold out", Availability.OUT_OF_STOCK),
        ("Currently unavailable.", Availability.OUT_OF_STOCK),
        ("Ausverkauft", Availability.OUT_OF_STOCK),
        ("Add to Cart", Availability.IN_STOCK),
        ("In den Warenkorb", Availability.IN_STOCK),
        ("Em estoque.", Availability.IN_STOCK),
        ("Description", None),
    ],
)
def test_availability_from_visible_text(text, availability):
    assert availability_from_text(text) == availability


def test_parse_html_prefers_valid_utf8_over_a_wrong_declared_charset():
    tree = parse_html('<html><head><meta charset="iso-8859-1"></head><body><p>£5 Promoção</p></body></html>'.encode())
    assert "£5 Promoção" in tree.text_content()


def test_parse_html_accepts_an_xml_declaration_in_text():
    tree = parse_html('<?xml version="1.0" encoding="utf-8"?><html><body><p>ok</p></body></html>')
    assert tree.findtext(".//p") == "ok"


@pytest.mark.parametrize("html", ["", b"", "   "])
def test_parse_html_returns_none_for_nothing(html):
    assert parse_html(html) is None


@pytest.mark.parametrize(
    ("text", "amount"),
    [("售价98元", "98.00"), ("¥498含税", "498.00"), ("₩99,000부터", "99000.00"), ("฿4,990ขึ้นไป", "4990.00"),
     # A sign written after the number, and a word of the same script right after the sign.
     ("1,280円から", "1280.00"), ("30,000원부터", "30000.00"), ("98元起", "98.00")],
)
def test_letters_of_scripts_without_spaces_may_stand_right_beside_a_price(text, amount):
    assert [str(token.amount) for token in find_amounts(text)] == [amount]


def test_latin_letters_glued_to_a_number_still_make_it_a_model_name():
    assert find_amounts("AMD 3700X") == []


def test_a_latin_word_right_after_a_sign_of_a_spaceless_script_still_glues():
    assert find_amounts("98元abc") == []

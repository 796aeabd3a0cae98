"""One money format for pages, charts and notifications: Babel's CLDR data, in the site's locale.

These strings replaced tracker.charts.format_money's (`€1,299.00`, `12.50 zł`, `7.00 XYZ`): the
currency's own decimals, CLDR's symbols and spacing, and a clear fallback for unknown codes.
"""

from decimal import Decimal

import pytest

from tracker.money import money_format

NBSP = "\u00a0"


@pytest.mark.parametrize(
    "amount,currency,text",
    [
        (Decimal("1299.99"), "USD", "$1,299.99"),
        (Decimal("1299"), "EUR", "€1,299.00"),
        (Decimal("5"), "GBP", "£5.00"),
        (Decimal("-3"), "EUR", "-€3.00"),
        (Decimal("12.5"), "eur", "€12.50"),
        (12.5, "USD", "$12.50"),
    ],
)
def test_the_currency_symbol_and_two_decimals_for_euro_dollar_and_pound(amount, currency, text):
    assert money_format(amount=amount, currency=currency) == text


def test_yen_and_forint_have_no_cents_when_there_are_none():
    assert money_format(amount=Decimal("1299"), currency="JPY") == "¥1,299"
    assert money_format(amount=Decimal("1299.00"), currency="JPY") == "¥1,299"
    assert money_format(amount=Decimal("45990"), currency="HUF") == f"HUF{NBSP}45,990"
    assert money_format(amount=Decimal("45990"), currency="HUF", locale="hu-hu") == f"45{NBSP}990{NBSP}Ft"


def test_a_real_fraction_is_never_rounded_away():
    assert money_format(amount=Decimal("1299.5"), currency="JPY") == "¥1,299.5"
    assert money_format(amount=Decimal("45990.50"), currency="HUF") == f"HUF{NBSP}45,990.50"
    assert money_format(amount=Decimal("0.125"), currency="USD") == "$0.125"


def test_a_letter_symbol_is_kept_apart_from_the_digits():
    assert money_format(amount=Decimal("12.5"), currency="CHF") == f"CHF{NBSP}12.50"
    assert money_format(amount=Decimal("12.5"), currency="PLN", locale="pl-pl") == f"12,50{NBSP}zł"


def test_the_locale_decides_grouping_decimal_mark_and_symbol_place():
    assert money_format(amount=Decimal("1299.99"), currency="EUR", locale="de-de") == f"1.299,99{NBSP}€"


def test_the_site_language_is_the_default_locale(settings):
    settings.LANGUAGE_CODE = "de-de"
    assert money_format(amount=Decimal("1299.99"), currency="EUR") == f"1.299,99{NBSP}€"


@pytest.mark.parametrize("currency,text", [("XYZ", "7.00 XYZ"), ("", "7.00"), ("euro", "7.00 euro")])
def test_an_unknown_currency_code_is_written_as_given_after_the_number(currency, text):
    assert money_format(amount=Decimal("7"), currency=currency) == text


def test_no_amount_is_an_empty_string():
    assert money_format(amount=None, currency="EUR") == ""



def test_a_remembered_amount_is_written_for_each_currency_and_locale_asked():
    # Formatted amounts are remembered (a page writes the same prices many times).
    assert money_format(amount=Decimal("1.5"), currency="EUR", locale="en") == "€1.50"
    assert money_format(amount=Decimal("1.5"), currency="USD", locale="en") == "$1.50"
    assert money_format(amount=Decimal("1.5"), currency="EUR", locale="de") == f"1,50{NBSP}€"
    assert money_format(amount=Decimal("1.505"), currency="EUR", locale="en") == "€1.505"
    assert money_format(amount=Decimal("1.5"), currency="EUR", locale="en") == "€1.50"

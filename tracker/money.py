"""Money as people read it: one formatter for pages, charts and notifications (Babel, CLDR data).

`money_format(amount=Decimal("1299.99"), currency="EUR")` → `€1,299.99` in the site's locale
(settings.LANGUAGE_CODE): the currency's own symbol, grouping and decimals. A price's real
digits are never rounded away: an amount with more decimals than the currency usually shows
keeps them, and the decimals are dropped only when they are zero and CLDR says the currency is
paid without them (cash digits 0: JPY, HUF, CZK, ...).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import cache, lru_cache

from babel import Locale
from babel.core import get_global
from babel.numbers import format_currency, format_decimal, get_currency_symbol, is_currency
from django.conf import settings
from django.utils.translation import to_locale

NBSP = "\u00a0"


@cache
def _locale(name: str) -> Locale:
    return Locale.parse(to_locale(name))


def _cash_digits(code: str) -> int:
    fractions = get_global("currency_fractions")
    return fractions.get(code, fractions["DEFAULT"])[2]


def _spaced(text: str, symbol: str) -> str:
    """CLDR's currency spacing, which Babel does not apply: a symbol that ends (or starts) with
    a letter is kept apart from the digits by a no-break space (`CHF 12.50`, not `CHF12.50`)."""
    if not symbol or symbol not in text:
        return text

    def letter(char: str) -> bool:
        return not unicodedata.category(char).startswith(("S", "Z"))

    escaped = re.escape(symbol)
    if letter(symbol[-1]):
        text = re.sub(rf"{escaped}(?=\d)", symbol + NBSP, text, count=1)
    if letter(symbol[0]):
        text = re.sub(rf"(?<=\d){escaped}", NBSP + symbol, text, count=1)
    return text


def money_format(*, amount: Decimal | float | int | None, currency: str, locale: str | None = None) -> str:
    """The amount in its currency for the locale (default: settings.LANGUAGE_CODE); an empty
    string without an amount. An unknown currency code is written after the number as given
    (`7.00 XYZ`), so nothing is passed off as a currency it is not."""
    if amount is None:
        return ""
    # By the amount's text: 1.5 and 1.50 are equal Decimals but are written differently.
    return _money_text(str(amount), currency or "", locale or settings.LANGUAGE_CODE)


@lru_cache(maxsize=4096)
def _money_text(amount: str, currency: str, locale: str) -> str:
    """Babel's work for one amount (about 20 µs): a page writes the same prices many times."""
    where = _locale(locale)
    value = Decimal(amount)
    code = currency.strip().upper()
    if not is_currency(code):
        number = format_decimal(value, format="#,##0.00", locale=where, decimal_quantization=False)
        return f"{number} {currency.strip()}".rstrip()
    if _cash_digits(code) == 0 and value == value.to_integral_value():
        pattern = re.sub(r"0\.0+", "0", where.currency_formats["standard"].pattern)
        text = format_currency(value, code, format=pattern, locale=where, currency_digits=False)
    else:
        text = format_currency(value, code, locale=where, decimal_quantization=False)
    return _spaced(text, get_currency_symbol(code, locale=where))

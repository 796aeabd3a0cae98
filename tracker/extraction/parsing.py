"""Turning page text into typed values: amounts, currencies, availability."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import lxml.html
from price_parser import Price

from .result import Availability

_SYMBOLS = {
    "$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "zł": "PLN",
    "R$": "BRL", "CHF": "CHF", "kr": "SEK", "C$": "CAD", "A$": "AUD", "₩": "KRW", "₽": "RUB",
    "د.إ": "AED", "AED": "AED", "Kč": "CZK", "₺": "TRY", "zl": "PLN",
}
_ISO = re.compile(r"^[A-Z]{3}$")


def parse_amount(value: object, *, decimal_separator: str | None = None) -> Decimal | None:
    """Parse a price as shops write it (`$1,299.99`, `1.299,00 €`, `£5`, `12,50 zł`)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return None
    else:
        text = str(value).strip()
        if not text or len(text) > 200:
            return None
        # Plain machine numbers ("1299.99", "1299") are read as they are.
        if re.fullmatch(r"\d+(\.\d+)?", text):
            amount = Decimal(text)
        else:
            parsed = Price.fromstring(text, decimal_separator=decimal_separator)
            if parsed.amount is None:
                return None
            amount = parsed.amount
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e10"):
        return None
    return amount.quantize(Decimal("0.01"))


def parse_currency(value: object) -> str | None:
    """An ISO 4217 code from a code or a symbol found near a price."""
    if not value:
        return None
    text = str(value).strip()
    if _ISO.match(text.upper()) and text.isalpha():
        return text.upper()
    parsed = Price.fromstring(text)
    symbol = (parsed.currency or text).strip()
    if symbol.upper() in _SYMBOLS.values():
        return symbol.upper()
    return _SYMBOLS.get(symbol)


_OUT = ("outofstock", "soldout", "discontinued", "backorder", "preorder", "instoreonly")
_IN = ("instock", "onlineonly", "limitedavailability", "instoreonly_no")


def parse_availability(value: object) -> Availability | None:
    if not value:
        return None
    text = re.sub(r"[^a-z]", "", str(value).rsplit("/", 1)[-1].lower())
    if any(token in text for token in _OUT):
        return Availability.OUT_OF_STOCK
    if any(token in text for token in _IN) or text in {"true", "available", "yes"}:
        return Availability.IN_STOCK
    return None


def parse_html(html: str | bytes) -> lxml.html.HtmlElement | None:
    """Parse a page with lxml; None when there is nothing to parse."""
    if not html:
        return None
    try:
        return lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None

"""Turning page text into typed values: amounts, currencies, availability."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import lxml.html
from lxml import etree
from price_parser import Price

from .budget import page_refusal
from .result import Availability

_SYMBOLS = {
    "$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "円": "JPY", "₹": "INR",
    "zł": "PLN", "zl": "PLN", "R$": "BRL", "CHF": "CHF", "Fr.": "CHF", "kr": "SEK", "kr.": "DKK",
    "C$": "CAD", "CA$": "CAD", "A$": "AUD", "AU$": "AUD", "NZ$": "NZD", "HK$": "HKD",
    "S$": "SGD", "MX$": "MXN", "₩": "KRW", "₽": "RUB", "руб": "RUB", "د.إ": "AED", "Kč": "CZK",
    "₺": "TRY", "TL": "TRY", "₪": "ILS", "฿": "THB", "Ft": "HUF", "lei": "RON", "₫": "VND",
    "₱": "PHP", "Rp": "IDR", "RM": "MYR", "Rs.": "INR", "Rs": "INR", "₴": "UAH", "лв": "BGN",
}
_ISO_CODES = frozenset(
    "USD EUR GBP JPY CNY INR PLN BRL CHF SEK NOK DKK CAD AUD NZD HKD SGD MXN KRW RUB AED SAR CZK "
    "TRY ILS THB HUF RON VND PHP IDR MYR UAH BGN ZAR ARS CLP COP PEN TWD ISK HRK QAR KWD EGP "
    "NGN KES MAD".split()
)
_ISO = re.compile(r"^[A-Z]{3}$")

# A price token: a currency (symbol or ISO code) next to a number, either order.
_CUR_WORD = (
    r"(?:US\s?\$|USD|C\$|CA\$|A\$|AU\$|NZ\$|HK\$|S\$|MX\$|R\$|EUR|GBP|JPY|INR|Rs\.?|zł|PLN|CHF|"
    r"Fr\.|SEK|NOK|DKK|kr\.?|Kč|CZK|руб\.?|KRW|TRY|TL|AED|SAR|ILS|BRL|MXN|CAD|AUD|NZD|THB|Ft|"
    r"HUF|lei|RON|PHP|Rp|RM|лв|CNY|ZAR)"
)
_CUR_SIGN = r"(?:\$|€|£|¥|円|₹|₽|₩|₺|د\.إ|₪|฿|₫|₱|₴)"
_NUM = r"(?:\d{1,3}(?:[.,'’\u00a0\u202f ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?:,-|,–|\.-)?"
PRICE_TOKEN = re.compile(
    rf"(?P<pre>(?<![A-Za-z]){_CUR_WORD}|{_CUR_SIGN})\s?(?P<num1>{_NUM})(?![\d]|[.,]\d)"
    rf"|(?<![\w.,])(?P<num2>{_NUM})\s?(?P<post>{_CUR_WORD}(?![A-Za-z])|{_CUR_SIGN})",
)
_BARE_NUM = re.compile(rf"(?<![\w.,])(?P<num>{_NUM})(?![\d.,]?\d)")


@dataclass(frozen=True)
class AmountToken:
    amount: Decimal
    currency: str | None  # ISO code, when a symbol or code was next to the number
    start: int
    end: int
    symbol: str | None = None


def number_value(text: str) -> Decimal | None:
    """Read a number as shops write it: `1,299.99`, `1.299,00`, `1'299.00`, `1 299,00`, `19,-`."""
    text = text.strip().rstrip("-–").replace("\u00a0", " ").replace("\u202f", " ")
    text = text.replace("'", "").replace("’", "").replace(" ", "")
    if not text or not re.fullmatch(r"[\d.,]+", text):
        return None
    text = text.rstrip(".,")
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_sep = "." if last_dot > last_comma else ","
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        head, _, tail = text.rpartition(sep)
        # One separator followed by exactly three digits is a thousands separator ("1,299",
        # "€1.299"), unless the number starts with 0 ("0.125").
        if text.count(sep) > 1 or (len(tail) == 3 and head and head != "0"):
            decimal_sep = None
        else:
            decimal_sep = sep
    else:
        decimal_sep = None
    if decimal_sep is None:
        digits = re.sub(r"[.,]", "", text)
    else:
        whole, _, frac = text.rpartition(decimal_sep)
        digits = re.sub(r"[.,]", "", whole) + "." + frac
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def _valid(amount: Decimal | None) -> Decimal | None:
    if amount is None or not amount.is_finite() or amount <= 0 or amount >= Decimal("1e10"):
        return None
    return amount.quantize(Decimal("0.01"))


def parse_amount(value: object, *, decimal_separator: str | None = None) -> Decimal | None:
    """Parse a price as shops write it (`$1,299.99`, `1.299,00 €`, `£5`, `12,50 zł`)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        try:
            return _valid(Decimal(str(value)))
        except InvalidOperation:
            return None
    text = " ".join(str(value).split())
    if not text or len(text) > 200 or re.match(r"^[-−]\s*\d", text):
        return None
    # Plain machine numbers ("1299.99", "1299", "69.990000000") are read as they are.
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _valid(Decimal(text))
    if decimal_separator is None:
        token = PRICE_TOKEN.search(text)
        if token:
            return _valid(number_value(token.group("num1") or token.group("num2")))
        bare = _BARE_NUM.search(text)
        if bare and not re.search(r"[A-Za-z]{4,}", text):
            return _valid(number_value(bare.group("num")))
    parsed = Price.fromstring(text, decimal_separator=decimal_separator)
    return _valid(parsed.amount)


def find_amounts(text: str, *, limit: int = 20) -> list[AmountToken]:
    """Every number in the text that has a currency next to it, in order."""
    found: list[AmountToken] = []
    for match in PRICE_TOKEN.finditer(text):
        amount = _valid(number_value(match.group("num1") or match.group("num2")))
        if amount is None:
            continue
        symbol = match.group("pre") or match.group("post")
        found.append(AmountToken(amount, currency_of_symbol(symbol), match.start(), match.end(), symbol))
        if len(found) >= limit:
            break
    return found


def currency_of_symbol(symbol: str | None) -> str | None:
    if not symbol:
        return None
    symbol = re.sub(r"\s", "", symbol)
    if symbol.upper() in _ISO_CODES:
        return symbol.upper()
    if symbol == "US$":
        return "USD"
    return _SYMBOLS.get(symbol) or _SYMBOLS.get(symbol.rstrip("."))


def currency_in_text(text: str) -> str | None:
    tokens = find_amounts(text, limit=3)
    if tokens and tokens[0].currency:
        return tokens[0].currency
    for word in re.findall(r"[A-Z]{3}", text[:100]):
        if word in _ISO_CODES:
            return word
    return None


def parse_currency(value: object) -> str | None:
    """An ISO 4217 code from a code or a symbol found near a price."""
    if not value:
        return None
    text = str(value).strip()
    if _ISO.match(text.upper()) and text.isalpha():
        return text.upper() if text.upper() in _ISO_CODES or len(text) == 3 else None
    code = currency_of_symbol(text)
    if code:
        return code
    parsed = Price.fromstring(text)
    return currency_of_symbol((parsed.currency or "").strip())


_OUT = ("outofstock", "soldout", "discontinued", "backorder", "preorder", "instoreonly")
_IN = ("instock", "onlineonly", "limitedavailability")


def parse_availability(value: object) -> Availability | None:
    """A schema.org availability value (`https://schema.org/InStock`, `in stock`, `oos`...)."""
    if not value:
        return None
    text = re.sub(r"[^a-z]", "", str(value).rsplit("/", 1)[-1].lower())
    if any(token in text for token in _OUT) or text in {"oos", "false", "no", "unavailable"}:
        return Availability.OUT_OF_STOCK
    if any(token in text for token in _IN) or text in {"true", "available", "yes", "instoreonlyno"}:
        return Availability.IN_STOCK
    return None


_OUT_WORDS = re.compile(
    r"\b(out of stock|sold out|currently unavailable|no longer available|not available|"
    r"temporarily unavailable|unavailable online|notify me when|email me when|back in stock soon|"
    r"pre-?order|backorder|ausverkauft|nicht (?:mehr )?verfügbar|nicht lieferbar|agotado|"
    r"esgotado|indispon[ií]vel|épuisé|rupture de stock|niedostępn\w*|wyprzedan\w*|"
    r"non disponibile|esaurito|uitverkocht|slutsåld|udsolgt|utsolgt)\b",
    re.IGNORECASE,
)
_IN_WORDS = re.compile(
    r"\b(in stock|add to (?:cart|bag|basket|trolley)|buy now|auf lager|sofort lieferbar|"
    r"in den warenkorb|lieferbar|em estoque|en stock|disponible|adicionar ao carrinho|"
    r"añadir al carrito|ajouter au panier|dodaj do koszyka|aggiungi al carrello|"
    r"in winkelwagen|comprar|lägg i varukorg|jetzt kaufen|kaufen|acheter|kup teraz|available)\b",
    re.IGNORECASE,
)


def availability_from_text(text: str) -> Availability | None:
    """Stock from a short visible text (a badge or a button label). Out-of-stock words win."""
    if not text:
        return None
    text = text[:300]
    if _OUT_WORDS.search(text):
        return Availability.OUT_OF_STOCK
    if _IN_WORDS.search(text):
        return Availability.IN_STOCK
    return None


def _decode(html: bytes) -> str:
    """Bytes to text: a declared charset is a hint; valid UTF-8 wins (many pages lie)."""
    try:
        return html.decode("utf-8")
    except UnicodeDecodeError:
        pass
    head = html[:4096].decode("ascii", "ignore")
    match = re.search(r"""charset=["']?([\w-]+)""", head, re.IGNORECASE)
    if match:
        try:
            return html.decode(match.group(1), "replace")
        except LookupError:
            pass
    return html.decode("cp1252", "replace")


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)


def parse_html(html: str | bytes, *, budget_checked: bool = False) -> lxml.html.HtmlElement | None:
    """Parse a page with lxml; None when there is nothing to parse, or when its structure is
    over the page budget (budget.py; `budget_checked`: the caller has scanned it already)."""
    if not html:
        return None
    if not budget_checked and page_refusal(html):
        return None
    if isinstance(html, bytes):
        html = _decode(html)
    html = _XML_DECL.sub("", html, count=1)
    if not html.strip():
        return None
    try:
        tree = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return None
    return tree.getroottree().getroot() if tree is not None else None

"""Turning page text into typed values: amounts, currencies, availability."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import lxml.html
from lxml import etree

from .amounts import (
    Notation,
    Reading,
    amount_read,
    hostile_notation,
    machine_amount_read,
    number_read,
    text_normalise,
)
from .budget import page_refusal
from .currencies import (
    DEFAULTS,
    SPACELESS_LETTER,
    currency_candidates,
    currency_minor_units,
    currency_uses_lakh,
    locale_numbers,
    symbol_after,
    symbol_before,
    symbol_codes,
    symbol_needs_evidence,
    symbol_pattern,
)
from .evidence import PageEvidence, evidence_current
from .result import Availability

# Kept for callers that look for a currency beside a number by regex.
_CUR_WORD = symbol_pattern(signs=False)
_CUR_SIGN = symbol_pattern(signs=True)

# A number as people write it: digit groups joined by one separator each (a space only before
# three digits), and a dash for "no cents" (`19,-`). Read by the grammar in amounts.py.
_RUN = re.compile(r"(?<![\d.,'’٫٬])\d+(?:[.,'’٫٬]\d+| \d{3}(?!\d))*(?:[.,][-–—](?!\d))?")


@dataclass(frozen=True)
class AmountToken:
    amount: Decimal
    currency: str | None  # ISO code, when a symbol or code was next to the number
    start: int
    end: int
    symbol: str | None = None


def _resolve(symbol: str, evidence: PageEvidence) -> tuple[bool, str | None, tuple[str, ...]]:
    """(stands for a currency here, the currency when known, every candidate)."""
    candidates = symbol_codes(symbol)
    if not candidates:
        return False, None, ()
    backed = [code for code in evidence.currencies if code in candidates]
    if symbol_needs_evidence(symbol) and not backed:
        return False, None, candidates
    if len(candidates) == 1:
        return True, candidates[0], candidates
    key = symbol[:-1] if symbol.endswith(".") and symbol not in DEFAULTS else symbol
    return True, (backed[0] if backed else DEFAULTS.get(symbol) or DEFAULTS.get(key)), candidates


@lru_cache(maxsize=512)
def _notation(language: str | None, currency: str | None, candidates: tuple[str, ...]) -> Notation:
    numbers = locale_numbers(language) if language else None
    if currency:
        units = currency_minor_units(currency)
    else:
        known = {currency_minor_units(code) for code in candidates}
        units = known.pop() if len(known) == 1 else None
    lakh = bool(numbers and numbers.lakh) or bool(currency and currency_uses_lakh(currency))
    return Notation(decimal=numbers.decimal if numbers else None, lakh=lakh, minor_units=units)


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    reading: Reading
    currency: str | None
    symbol: str | None


def _glued(char: str) -> bool:
    """A letter that makes the number part of a word ("X100", "3700X"), not one beside a price."""
    return char.isalpha() and SPACELESS_LETTER.match(char) is None


def _scan(text: str, evidence: PageEvidence, *, bare: bool = False, limit: int = 20):
    """Each number of a normalised text with the currency symbol beside it (or, with `bare`,
    also the ones without), read by the grammar."""
    count = 0
    for run in _RUN.finditer(text):
        start, end = run.span()
        symbol = None
        currency = None
        candidates: tuple[str, ...] = ()
        before = symbol_before(text, start)
        if before is not None:
            counts, currency, candidates = _resolve(before[1], evidence)
            before = before if counts else None
        after = symbol_after(text, end) if before is None else None
        if after is not None:
            counts, currency, candidates = _resolve(after[1], evidence)
            after = after if counts else None
        if before or after:
            symbol = before[1] if before else after[1]
        else:
            currency, candidates = None, ()
        if symbol is None:
            if not bare:
                continue
            if (start > 0 and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha()):
                continue  # part of a model name or a unit ("X100", "500ml")
        elif after and start > 0 and (_glued(text[start - 1]) or text[start - 1] in ".,"):
            continue
        elif before and end < len(text) and _glued(text[end]):
            continue  # a model number after a code ("AMD 3700X", "PHP 8.2x")
        if hostile_notation(text[max(0, start - 3):end + 4]):
            reading = Reading(None, f"{text[start:end + 3]!r} is no price notation")
        else:
            reading = amount_read(run.group(), notation=_notation(evidence.language, currency, candidates))
        yield _Found(before[0] if before else start, after[0] if after else end, reading, currency, symbol)
        count += 1
        if count >= limit:
            return


def number_value(text: str) -> Decimal | None:
    """Read a number as shops write it: `1,299.99`, `1.299,00`, `1'299.00`, `1 299,00`, `19,-`."""
    normalised = text_normalise(" ".join(text.split()))
    if normalised is None:
        return None
    found = number_read(normalised.text.rstrip(".,") if not normalised.text.endswith(("-", "–")) else normalised.text)
    if isinstance(found, Reading):
        return None
    whole, fraction = found
    return Decimal(f"{whole}.{fraction}" if fraction else whole)


def _currency_notation(currency: str | None, evidence: PageEvidence) -> Notation:
    code = parse_currency(currency) if currency else None
    return _notation(evidence.language, code, ())


def amount_reading(value: object, *, currency: str | None = None, decimal_separator: str | None = None) -> Reading:
    """A price from a structured value (a JSON number or string) or a short text (`$1,299.99`,
    `1.299,00 €`, `£5`, `12,50 zł`): the amount exactly, or why there is none."""
    evidence = evidence_current()
    notation = _currency_notation(currency, evidence)
    if decimal_separator in (".", ","):
        notation = Notation(decimal=decimal_separator, lakh=notation.lakh, minor_units=notation.minor_units)
    if value is None:
        return Reading(None, "no value")
    if not isinstance(value, str):
        return machine_amount_read(value, minor_units=notation.minor_units) or Reading(None, "not a number")
    text = " ".join(value.split())
    if not text:
        return Reading(None, "no value")
    if len(text) > 200:
        return Reading(None, "too long for a price")
    normalised = text_normalise(text)
    if normalised is None:
        return Reading(None, "bidi controls can show digits in another order than they are stored")
    text = normalised.text
    if re.match(r"^[-−]\s*\d", text):
        return Reading(None, "a negative amount")
    machine = machine_amount_read(text, minor_units=notation.minor_units)
    if machine is not None:
        return machine
    why = hostile_notation(text)
    if why:
        return Reading(None, why)
    first = next(_scan(text, evidence, limit=1), None)
    if first is not None:
        # A currency stated beside the value (priceCurrency) decides its minor units.
        return amount_read(_run_at(text, first), notation=notation) if currency else first.reading
    bare = list(_scan(text, evidence, bare=True, limit=2))
    if not bare:
        return Reading(None, "no number")
    if len(bare) > 1:
        return Reading(None, "several numbers, none with a currency")
    return amount_read(_run_at(text, bare[0]), notation=notation)


def _run_at(text: str, found: _Found) -> str:
    match = _RUN.search(text, found.start)
    return match.group() if match else ""


def parse_amount(value: object, *, decimal_separator: str | None = None, currency: str | None = None) -> Decimal | None:
    """Parse a price as shops write it (`$1,299.99`, `1.299,00 €`, `£5`, `12,50 zł`) or as
    structured data states it (`1299.9`, `"1299.90"`); None when it is not exactly one."""
    return amount_reading(value, currency=currency, decimal_separator=decimal_separator).amount


def find_amounts(text: str, *, limit: int = 20) -> list[AmountToken]:
    """Every number in the text that has a currency next to it and reads as a price, in order
    (offsets into `text` as given)."""
    normalised = text_normalise(text)
    if normalised is None:
        return []
    found: list[AmountToken] = []
    for item in _scan(normalised.text, evidence_current(), limit=limit * 2):
        if item.reading.amount is None:
            continue
        found.append(AmountToken(item.reading.amount, item.currency, normalised.origin(item.start),
                                 normalised.origin(item.end), item.symbol))
        if len(found) >= limit:
            break
    return found


def currency_of_symbol(symbol: str | None) -> str | None:
    """The currency a symbol or code stands for on this page (CLDR; the page's evidence
    settles `$`, `kr`, `¥`)."""
    if not symbol:
        return None
    normalised = text_normalise(re.sub(r"\s", "", symbol))
    if normalised is None or not normalised.text:
        return None
    key = normalised.text
    if key.isalpha() and len(key) == 3:
        codes = currency_candidates(key.upper())
        if codes == (key.upper(),):
            return codes[0]
    counts, currency, _ = _resolve(key, evidence_current())
    return currency if counts else None


def currency_in_text(text: str) -> str | None:
    tokens = find_amounts(text, limit=3)
    if tokens and tokens[0].currency:
        return tokens[0].currency
    for word in re.findall(r"[A-Z]{3}", text[:100]):
        if currency_candidates(word) == (word,):
            return word
    return None


def parse_currency(value: object) -> str | None:
    """An ISO 4217 code from a code or a symbol found near a price."""
    if not value:
        return None
    text = str(value).strip()
    if len(text) == 3 and text.isascii() and text.isalpha():
        return text.upper() if currency_candidates(text.upper()) == (text.upper(),) else None
    return currency_of_symbol(text) or currency_in_text(text)


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

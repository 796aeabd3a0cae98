"""What CLDR (through Babel) knows about currencies and how each locale writes numbers.

The symbol table holds every symbol of every ISO 4217 currency in every CLDR locale, and the
short local names written after an amount in scripts without word spaces (`円`, `元`, `บาท`).
Collecting it reads all ~1,100 CLDR locale files: 0.7-1.2 s of CPU, too much for every worker
and test process, so it is built once into `currency_symbols.json` beside this module
(`python -m tracker.extraction.currencies` rewrites it; a test fails when it differs from what
the pinned Babel gives). Everything else (minor units, territory currencies, a locale's
separators and grouping) is asked of Babel when needed and cached. `symbol_before` and
`symbol_after` find the longest symbol beside a number in page text.

Pure: no ORM, no network.
"""

from __future__ import annotations

import json
import pickle
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError, localedata
from babel.core import get_global
from babel.numbers import get_territory_currencies, list_currencies

TABLE_PATH = Path(__file__).with_name("currency_symbols.json")

# Written forms shops use that CLDR does not list as a symbol of the currency (CLDR gives the
# Ukrainian hryvnia only as `₴`, the won as `₩`, the Kazakh tenge as `₸`...). Each is the
# abbreviation of the currency's name in its own language, or the Latin form the country's
# shops print (`LE`, `L.E` for the Egyptian pound; `SR` for the Saudi riyal).
LOCAL_FORMS: dict[str, tuple[str, ...]] = {
    "원": ("KRW",), "тг": ("KZT",), "тнг": ("KZT",), "грн": ("UAH",), "руб": ("RUB",), "р": ("RUB",),
    "Р": ("RUB",), "lei": ("RON",), "LE": ("EGP",), "L.E": ("EGP",), "جنيه": ("EGP",),
    "ريال": ("SAR", "QAR", "OMR", "YER", "IRR"), "SR": ("SAR",), "zl": ("PLN",), "TL": ("TRY",),
    "Fr": ("CHF",), "Dhs": ("AED",), "Dh": ("AED", "MAD"), "лв": ("BGN",), "ден": ("MKD",),
    "Rs": ("INR", "PKR", "LKR", "NPR", "MUR", "SCR"), "€": ("EUR",),
}

# What an ambiguous symbol means when the page gives no evidence: the currency of the largest
# market writing it, as the tracker has always read them.
DEFAULTS: dict[str, str] = {
    "$": "USD", "£": "GBP", "¥": "JPY", "kr": "SEK", "kr.": "DKK", "C$": "CAD", "Rs": "INR", "Rs.": "INR",
}

# Currency codes that are also English words or brands in capitals ("TOP 10", "AMD 5600"): read as a
# currency only when the page's own evidence names that currency.
_WORD_CODES = frozenset({"ALL", "TOP", "CUP", "BOB", "PEN", "SOS", "MAD", "GEL", "MOP", "BAM", "TRY", "AMD"})

# Short Latin symbols the tracker always read without evidence: none is a unit or a common word.
_PLAIN_LATIN = frozenset({"kr", "kr.", "Ft", "RM", "Rp", "Rs", "Rs.", "TL", "lei", "zl", "Fr.", "Kč", "zł", "CHF"})

_IDEOGRAPHIC = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LATIN_OR_CYRILLIC = re.compile(r"[A-Za-z\u00c0-\u024f\u0400-\u04ff]")


def symbol_normalise(symbol: str) -> str:
    """A symbol as the amount grammar sees page text: format characters (RLM, ZWJ) removed,
    full-width forms folded, a trailing dot dropped (`руб.`, `ر.س.`, `Rs.` are the same)."""
    text = "".join(ch for ch in symbol if unicodedata.category(ch) != "Cf")
    text = unicodedata.normalize("NFKC", text).strip()
    return text[:-1] if len(text) > 1 and text.endswith(".") else text


def currency_table_build() -> dict[str, list[str]]:
    """The symbol table from the installed Babel's CLDR data (slow: reads every locale)."""
    # Currencies legal tender somewhere today (not the historical ones, metals or test codes).
    current = {
        span[0]
        for spans in get_global("territory_currencies").values()
        for span in spans
        if len(span) > 3 and span[2] is None and span[3]
    }
    table: dict[str, set[str]] = {}

    def add(symbol: str, code: str) -> None:
        key = symbol_normalise(symbol)
        if key and not key.isdigit() and code in current:
            table.setdefault(key, set()).add(code)

    for code in current:
        add(code, code)
    for name in localedata.locale_identifiers():
        # Read the file itself: `localedata.load(merge_inherited=False)` would put the
        # unmerged data in Babel's cache, and every later Locale of that name would lack it.
        with open(localedata.resolve_locale_filename(name), "rb") as handle:
            data = pickle.load(handle)  # noqa: S301  # Babel's own CLDR files
        for code, symbol in (data.get("currency_symbols") or {}).items():
            add(symbol, code)
        # Short names in scripts where the name itself follows the amount (`1,298円`, `99元`).
        names = [*(data.get("currency_names") or {}).items()]
        for code, forms in (data.get("currency_names_plural") or {}).items():
            names.extend((code, form) for form in forms.values())
        for code, form in names:
            if len(form) <= 3 and " " not in form and not _LATIN_OR_CYRILLIC.search(form) and not code.startswith("X"):
                add(form, code)
    for symbol, codes in LOCAL_FORMS.items():
        for code in codes:
            add(symbol, code)
    return {symbol: sorted(codes) for symbol, codes in sorted(table.items())}


@lru_cache(maxsize=1)
def currency_table() -> dict[str, tuple[str, ...]]:
    with TABLE_PATH.open(encoding="utf-8") as handle:
        return {symbol: tuple(codes) for symbol, codes in json.load(handle).items()}


@lru_cache(maxsize=1)
def _iso_codes() -> frozenset[str]:
    return frozenset(list_currencies())


def currency_candidates(symbol: str | None) -> tuple[str, ...]:
    """Every currency a symbol or code may stand for, per CLDR; empty when none."""
    if not symbol:
        return ()
    key = symbol_normalise(symbol)
    found = currency_table().get(key)
    if found is None and key.isalpha() and len(key) == 3 and key.upper() in _iso_codes():
        found = (key.upper(),)
    return found or ()


@lru_cache(maxsize=2048)
def symbol_needs_evidence(symbol: str) -> bool:
    """True for symbols that are also units or words (`L`, `R`, `K`, `Br`, `TOP`): they stand
    for a currency only on a page whose evidence names it."""
    key = symbol_normalise(symbol)
    if key in _PLAIN_LATIN or symbol in _PLAIN_LATIN:
        return False
    if key in _WORD_CODES:
        return True
    if re.fullmatch(r"\w+\.\w+", key):
        return False  # `L.E`, `Bs.S`: no word is written so
    letters = key.replace(".", "")
    if letters.isascii() and letters.isalpha():
        return not (len(letters) == 3 and letters.isupper())
    # One letter of an alphabet (`р`, `Р`, the Arabic `ر`) is as weak as one Latin letter; one
    # ideograph or Hangul syllable (`円`, `元`, `원`) is a word of its own.
    return len(letters) == 1 and unicodedata.category(letters).startswith("L") and not _IDEOGRAPHIC.match(letters)


def currency_minor_units(code: str | None) -> int | None:
    """The digits after the decimal separator a currency's prices carry (CLDR: JPY 0, EUR 2,
    KWD 3); None for an unknown currency."""
    if not code:
        return None
    fractions = get_global("currency_fractions")
    return (fractions.get(code) or fractions["DEFAULT"])[0]


@lru_cache(maxsize=512)
def territory_currency(territory: str | None) -> str | None:
    """The currency in use in a country (ISO 3166 code), per CLDR."""
    if not territory or not territory.isalpha() or len(territory) != 2:
        return None
    found = get_territory_currencies(territory.upper(), tender=True)
    return found[0] if found else None


@dataclass(frozen=True)
class LocaleNumbers:
    decimal: str | None  # "." or ","; None when the locale uses another
    lakh: bool  # groups of two above the thousands (hi, en_IN: 1,29,999)
    territory: str | None


@lru_cache(maxsize=256)
def locale_numbers(tag: str | None) -> LocaleNumbers | None:
    """How a language tag (`de-AT`, `pt_BR`, `ja`) writes numbers, completed with CLDR's likely
    subtags (`de` is de_Latn_DE); None for an unknown tag."""
    if not tag:
        return None
    tag = tag.strip().replace("-", "_")
    if not re.fullmatch(r"[A-Za-z]{2,3}(?:_[A-Za-z0-9]{2,8})*", tag):
        return None
    try:
        locale = Locale.parse(tag)
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    territory = locale.territory
    if territory is None:
        likely = get_global("likely_subtags").get(locale.language)
        territory = likely.rsplit("_", 1)[-1] if likely and "_" in likely else None
    symbols = locale.number_symbols.get("latn") or {}
    decimal = symbols.get("decimal")
    pattern = locale.decimal_formats.get(None)
    grouping = getattr(pattern, "grouping", (3, 3))
    return LocaleNumbers(decimal if decimal in (".", ",") else None, grouping[1] == 2, territory)


@lru_cache(maxsize=64)
def currency_uses_lakh(code: str) -> bool:
    """True when the currency's home countries group digits by lakh (INR, NPR, BDT...)."""
    for territory, spans in get_global("territory_currencies").items():
        if not any(span[0] == code and span[2] for span in spans if len(span) > 2):
            continue
        likely = get_global("likely_subtags").get(f"und_{territory}")
        numbers = locale_numbers(likely) if likely else None
        if numbers is not None and numbers.lakh:
            return True
    return False


# --- finding symbols beside a number -------------------------------------------------------
_LONGEST_SYMBOL = 6


def _trie(words: list[str]) -> str:
    """One regex for many literal words, shared prefixes factored out: a flat alternation of
    the ~400 CLDR symbols costs ~50 ms to compile in every process, the factored one a tenth."""
    root: dict = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return "(?:" + emit(root) + ")"


def symbol_pattern(*, signs: bool) -> str:
    """A regex of the CLDR symbols that stand for a currency without evidence: signs (no
    letters: `$`, `€`, `R$`, `S/`) or words (`EUR`, `zł`, `грн`, `원`, with or without a dot)."""
    chosen = []
    for symbol in currency_table():
        if symbol_needs_evidence(symbol) or any(ch.isalpha() for ch in symbol) == signs:
            continue
        chosen.append(symbol)
        if not signs and symbol[-1].isalpha():
            chosen.append(symbol + ".")
    return _trie(chosen)


@dataclass(frozen=True)
class _Symbols:
    codes: dict[str, tuple[str, ...]]  # every symbol, and with a dot after a letter (`руб.`)
    # The lengths of the symbols ending (starting) with each character: most numbers have no
    # such character beside them and need no lookup at all.
    sizes_by_last: dict[str, tuple[int, ...]]
    sizes_by_first: dict[str, tuple[int, ...]]


@lru_cache(maxsize=1)
def _symbols() -> _Symbols:
    codes = dict(currency_table())
    for symbol, found in currency_table().items():
        if symbol[-1].isalpha():
            codes.setdefault(symbol + ".", found)
    by_last: dict[str, set[int]] = {}
    by_first: dict[str, set[int]] = {}
    for symbol in codes:
        if len(symbol) <= _LONGEST_SYMBOL:
            by_last.setdefault(symbol[-1], set()).add(len(symbol))
            by_first.setdefault(symbol[0], set()).add(len(symbol))
    return _Symbols(
        codes,
        {char: tuple(sorted(sizes, reverse=True)) for char, sizes in by_last.items()},
        {char: tuple(sorted(sizes, reverse=True)) for char, sizes in by_first.items()},
    )


def symbol_codes(text: str) -> tuple[str, ...]:
    """The currencies a symbol as written on a normalised page stands for (`руб.` as `руб`)."""
    return _symbols().codes.get(text, ())


def symbol_before(text: str, end: int) -> tuple[int, str] | None:
    """The longest currency symbol ending at `end` (one space allowed before the number)."""
    if end > 0 and text[end - 1] == " ":
        end -= 1
    if end == 0:
        return None
    symbols = _symbols()
    for size in symbols.sizes_by_last.get(text[end - 1], ()):
        start = end - size
        if start < 0:
            continue
        symbol = text[start:end]
        if symbol not in symbols.codes:
            continue
        if symbol[0].isalpha() and start > 0 and text[start - 1].isalpha():
            continue  # the end of a word ("Mr", "Art.Nr")
        return start, symbol
    return None


# Scripts written without spaces between words (Han, Kana, Hangul, Thai): their letters stand
# right beside a price ("售价98元", "¥98起", "1,280円から", "₩30,000부터") without being part of it.
SPACELESS_LETTER = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def symbol_after(text: str, start: int) -> tuple[int, str] | None:
    """The longest currency symbol starting at `start` (one space allowed after the number)."""
    if start < len(text) and text[start] == " ":
        start += 1
    if start >= len(text):
        return None
    symbols = _symbols()
    for size in symbols.sizes_by_first.get(text[start], ()):
        end = start + size
        if end > len(text):
            continue
        symbol = text[start:end]
        if symbol not in symbols.codes:
            continue
        if symbol[-1].isalpha() and end < len(text) and text[end].isalpha() and not (
            SPACELESS_LETTER.match(symbol[-1]) and SPACELESS_LETTER.match(text[end])
        ):
            continue  # the start of a word ("12 Lieferung": not `L`; "5 EUROPA": not `EUR`)
        return end, symbol
    return None


if __name__ == "__main__":  # rewrite the table from the installed Babel
    rows = [f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v)}" for k, v in currency_table_build().items()]
    TABLE_PATH.write_text("{\n" + ",\n".join(rows) + "\n}\n", encoding="utf-8")
    print(f"wrote {TABLE_PATH.name}")

"""The amount grammar: a number as a shop writes it, read exactly or refused with a reason.

Text is normalised first: every Unicode decimal digit becomes its ASCII digit (`٩٩٫٩٩`),
full-width forms are folded (`￥１，２９８`), format characters (zero-width spaces, joiners,
direction marks) are dropped, and every kind of space is one space. A bidi embedding or
override can show digits in another order than they are stored: such text is not trusted.

A number is digits in groups with one kind of grouping separator and at most one decimal
separator. When the number alone does not say which separator is which (`1.299`, `1,299`),
the currency's minor units and the page's locale decide; without them, a price is presumed to
carry at most two decimals. Exponents, underscores, fractions, signs, NaN/Infinity, zero,
more digits than any shop prints and grouping that fits no locale are refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

# Whole amounts below ten billion: more than any shop's price in any currency's main unit.
MAX_WHOLE_DIGITS = 10
CENT = Decimal("0.01")

_BIDI_EMBEDDING = re.compile("[\u202a-\u202e]")
_GROUP_ONLY = frozenset(" '’٬")  # never a decimal separator
_DECIMAL_ONLY = "٫"  # the Arabic decimal separator
_SEPARATORS = "., '’٫٬"
_SHAPE = re.compile(r"\d+(?:[.,'’ ٫٬]\d+)*")
_SPLIT = re.compile(r"([.,'’ ٫٬])")
_WHOLE_DASH = re.compile(r"[.,][-–—]$")
_LAKH = re.compile(r"\d{1,2}(?:,\d{2})+,\d{3}")
# Hostile or non-price notations next to digits: exponents, underscores, fractions.
_EXPONENT = re.compile(r"\d\s?[eE]\s?[+-]?\d")
_UNDERSCORE = re.compile(r"\d_+\d")
_FRACTION = re.compile(r"\d\s?[/⁄]\s?\d|[½¼¾⅓⅔⅛]")
_NOT_FINITE = re.compile(r"\b(?:nan|inf|infinity)\b", re.IGNORECASE)


class _Folding(dict):
    """str.translate table, filled per character on first sight."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        category = unicodedata.category(char)
        if category == "Nd":
            out = str(unicodedata.decimal(char))
        elif category == "Cf":
            out = ""
        elif category == "Zs":
            out = " "
        elif 0xFF01 <= code <= 0xFFEE:
            folded = unicodedata.normalize("NFKC", char)
            out = folded if len(folded) == 1 else char
        else:
            out = char
        self[code] = out
        return out


_FOLDING = _Folding()


@dataclass(frozen=True)
class Normalised:
    text: str
    # Index in the original text of each character of `text` (and of its end), when format
    # characters were dropped; None when positions are unchanged.
    positions: tuple[int, ...] | None = None

    def origin(self, index: int) -> int:
        return index if self.positions is None else self.positions[index]


def text_normalise(text: str) -> Normalised | None:
    """The text as the grammar reads it; None when it holds a bidi embedding or override."""
    if text.isascii():
        return Normalised(text)
    if _BIDI_EMBEDDING.search(text):
        return None
    out = text.translate(_FOLDING)
    if len(out) == len(text):
        return Normalised(out)
    positions = [i for i, char in enumerate(text) if _FOLDING[ord(char)]]
    positions.append(len(text))
    return Normalised(out, tuple(positions))


_FORMAT_CHARS = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


@lru_cache(maxsize=1)
def _foreign_digits() -> re.Pattern:
    """A class of the non-ASCII decimal digits of the Basic Multilingual Plane, as explicit
    ranges: scanning a page with `[^\\D0-9]` asks the Unicode database for every character
    (25 ms a megabyte), a range class does not. Built once (~10 ms)."""
    ranges = []
    code = 0x80
    while code < 0x10000:
        if unicodedata.category(chr(code)) == "Nd":
            ranges.append(f"{chr(code)}-{chr(code + 9)}")
            code += 10
        else:
            code += 1
    return re.compile("[" + "".join(ranges) + "]")


def text_fold(text: str) -> str:
    """A long text (a whole page's) with format characters dropped, and digits and full-width
    forms folded as `text_normalise` does, and the Arabic separators as "." and ",", for
    finding where a known amount is printed. Regexes (in C) do the work: a translation of
    every character of a 200 KB page would cost milliseconds."""
    text = _FORMAT_CHARS.sub("", text)
    if not _foreign_digits().search(text):
        return text
    return text.translate(_FOLDING).replace(_DECIMAL_ONLY, ".").replace("٬", ",")


@dataclass(frozen=True)
class Notation:
    """What the page says about how its numbers are written."""

    decimal: str | None = None  # the locale's decimal separator, "." or ","
    lakh: bool = False  # the locale or currency groups by lakh (1,29,999)
    minor_units: int | None = None  # the currency's, from CLDR (JPY 0, EUR 2, KWD 3)


PLAIN = Notation()


@dataclass(frozen=True)
class Reading:
    """An amount, or why there is none."""

    amount: Decimal | None = None
    reason: str | None = None


def _refuse(reason: str) -> Reading:
    return Reading(None, reason)


def hostile_notation(text: str) -> str | None:
    """Why a text holding a number is not a plain amount (exponent, underscore...), or None."""
    if _EXPONENT.search(text):
        return "an exponent is not how a price is written"
    if _UNDERSCORE.search(text):
        return "digits joined by underscores"
    if _FRACTION.search(text):
        return "a fraction is not a price"
    if _NOT_FINITE.search(text):
        return "not a finite number"
    return None


def _decimal_position(digits: list[str], seps: list[str], raw: str, notation: Notation) -> int | None | Reading:
    """Index of the decimal separator in `seps`, None when all are grouping, or a refusal."""
    if not seps:
        return None
    last, tail = seps[-1], digits[-1]
    if last == _DECIMAL_ONLY:
        return len(seps) - 1
    if last in _GROUP_ONLY or seps.count(last) > 1:
        return None
    if len(set(seps)) > 1:
        return len(seps) - 1  # "1.299,00", "1 299,00", "1'299.00": the odd one out
    if len(tail) != 3 or digits[0] == "0":
        return 0  # "12,50", "0.125": no grouping reads so
    # One "." or "," before three digits: 1299, or 1.299 in a currency with three decimals.
    units = notation.minor_units
    if units == 3:
        if notation.decimal is None:
            return _refuse(f"{raw!r}: thousands or three decimals, and nothing on the page says which")
        return 0 if notation.decimal == last else None
    if units == 0:
        return None
    if notation.decimal == last and units is not None:
        return _refuse(f"{raw!r}: the page writes decimals with {last!r}, but its currency has no third decimal")
    return None


def number_read(raw: str, *, notation: Notation = PLAIN) -> tuple[str, str] | Reading:
    """The whole and decimal digits of one number written for people (`1.299,00`, `1 299`,
    `1,29,999`, `19,-`, `٩٩٫٩٩` once normalised), or why it is not one."""
    text = raw.strip()
    whole_only = bool(_WHOLE_DASH.search(text))
    if whole_only:
        text = text[:-2]
    if not _SHAPE.fullmatch(text):
        return _refuse(f"{raw!r} is not a number")
    parts = _SPLIT.split(text)
    digits, seps = parts[0::2], parts[1::2]
    position = _decimal_position(digits, seps, raw, notation)
    if isinstance(position, Reading):
        return position
    if position is not None and whole_only:
        return _refuse(f"{raw!r} has decimals and a dash for them")
    whole_digits = digits if position is None else digits[: position + 1]
    groups = seps if position is None else seps[:position]
    fraction = "" if position is None else "".join(digits[position + 1:])
    if position is not None and position != len(seps) - 1:
        return _refuse(f"{raw!r} has separators after its decimals")
    if len(set(g.replace("’", "'") for g in groups)) > 1:
        return _refuse(f"{raw!r} mixes grouping separators")
    if groups:
        grouped = ",".join(whole_digits)
        three = all(len(d) == 3 for d in whole_digits[1:]) and 1 <= len(whole_digits[0]) <= 3
        if not three:
            if not _LAKH.fullmatch(grouped):
                return _refuse(f"{raw!r} is grouped as no locale groups digits")
            if not notation.lakh:
                return _refuse(f"{raw!r} is grouped by lakh, and neither its currency nor the page's locale does so")
    return "".join(whole_digits), fraction


def amount_read(raw: str, *, notation: Notation = PLAIN) -> Reading:
    """One price written for people, exactly, or why not; `raw` is normalised text holding
    nothing but the number."""
    found = number_read(raw, notation=notation)
    if isinstance(found, Reading):
        return found
    return _value(*found, raw, notation.minor_units)


def _value(whole: str, fraction: str, raw: str, minor_units: int | None) -> Reading:
    whole = whole.lstrip("0") or "0"
    if len(whole) > MAX_WHOLE_DIGITS:
        return _refuse(f"{raw!r} has more digits than any shop's price")
    significant = fraction.rstrip("0")
    if significant and minor_units == 0:
        return _refuse(f"{raw!r} has decimals, and its currency has no minor unit")
    if len(significant) > 2:
        # A third decimal (KWD, BHD) cannot be recorded to the cent without changing the price.
        return _refuse(f"{raw!r} has more decimals than a price is recorded with")
    amount = Decimal(f"{whole}.{significant or '0'}")
    return _checked(amount, raw)


def _checked(amount: Decimal, raw: object) -> Reading:
    if amount <= 0:
        return _refuse(f"{raw!r} is zero or less")
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if rounded == 0:
        return _refuse(f"{raw!r} rounds to nothing")
    return Reading(rounded)


_MACHINE = re.compile(r"\d+(?:\.\d+)?")


def machine_amount_read(value: object, *, minor_units: int | None = None) -> Reading | None:
    """A machine value (a JSON number, `"1299.90"`, `"69.990000000"`) read exactly; None when
    `value` is text for people, to be read by `amount_read`.

    Three decimals (`"1.299"`) are refused: a shop writing its own format in a machine field
    means 1299, and a currency with three decimals cannot be recorded to the cent; for a
    currency without cents (`"24.990"` CLP) they are its grouping. More decimals are computing
    noise (`16.6667`), rounded to the cent as the page shows them.
    """
    if isinstance(value, bool):
        return _refuse("a yes/no value is not a price")
    if isinstance(value, int):
        return _checked(Decimal(value), value) if len(str(abs(value))) <= MAX_WHOLE_DIGITS else _refuse(
            "more digits than any shop's price"
        )
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "n" in text:  # 1e-320, 1e+16, nan, inf
            return _refuse(f"{text} is not a price a shop writes")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            return _refuse("not a finite number")
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return _refuse(f"a {type(value).__name__} is not a price")
    if text.startswith(("-", "−", "+")):
        return _refuse(f"{text!r} is signed")
    why = hostile_notation(text)
    if why:
        return _refuse(f"{text!r}: {why}")
    if not _MACHINE.fullmatch(text):
        return None
    whole, _, fraction = text.partition(".")
    if len(fraction) == 3 and minor_units == 0 and isinstance(value, str) and whole.lstrip("0"):
        # `"24.990"` for a currency without cents (CLP, JPY) is the shop's own grouping.
        whole, fraction = whole + fraction, ""
    if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS or len(fraction) > 20:
        return _refuse(f"{text!r} has more digits than any shop's price")
    significant = fraction.rstrip("0")
    if Decimal(f"{whole}.{fraction or '0'}") == 0:
        return _refuse(f"{text!r} is zero")
    if Decimal(f"{whole}.{fraction or '0'}").quantize(CENT, rounding=ROUND_HALF_UP) == 0:
        return _refuse(f"{text!r} rounds to nothing")
    if len(fraction) <= 3 and len(significant) == 3:
        return _refuse(f"{text!r}: 1299 or 1.299? A third decimal cannot be recorded to the cent either")
    if minor_units == 0 and significant and len(fraction) < 4:
        return _refuse(f"{text!r} has decimals, and its currency has no minor unit")
    try:
        return _checked(Decimal(f"{whole}.{fraction or '0'}"), text)
    except InvalidOperation:
        return _refuse(f"{text!r} is not a number")

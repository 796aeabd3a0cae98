"""The shop-wording lexicon: every entry, beside an amount, classifies that amount as its kind,
and on a page the real price beside it is still the one chosen."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tracker.extraction import extract
from tracker.extraction.lexicon import LEXICON, Kind
from tracker.extraction.wording import amount_kind

# (other amount, real price, the real price's value) as shops of each language print them.
AMOUNTS = {
    "en": ("$19.99", "$49.99", "49.99"), "zh": ("¥98", "¥498", "498"), "ja": ("¥1,980", "¥9,800", "9800"),
    "ko": ("₩30,000", "₩99,000", "99000"), "es": ("€19,99", "€49,99", "49.99"), "pt": ("R$ 19,90", "R$ 49,90", "49.90"),
    "de": ("19,99 €", "49,99 €", "49.99"), "fr": ("19,99 €", "49,99 €", "49.99"), "it": ("19,99 €", "49,99 €", "49.99"),
    "nl": ("€ 19,99", "€ 49,99", "49.99"), "pl": ("19,99 zł", "49,99 zł", "49.99"), "ru": ("990 ₽", "4 990 ₽", "4990"),
    "uk": ("990 ₴", "4 990 ₴", "4990"), "tr": ("99 TL", "499 TL", "499"), "ar": ("AED 99", "AED 499", "499"),
    "hi": ("₹999", "₹4,999", "4999"), "id": ("Rp 99.000", "Rp 499.000", "499000"),
    "vi": ("99.000₫", "499.000₫", "499000"), "th": ("฿990", "฿4,990", "4990"), "cs": ("990 Kč", "4 990 Kč", "4990"),
    "sv": ("199 kr", "499 kr", "499"), "da": ("199 kr", "499 kr", "499"), "no": ("199 kr", "499 kr", "499"),
    "fi": ("19,99 €", "49,99 €", "49.99"), "sl": ("19,99 €", "49,99 €", "49.99"),
}
_SPACELESS = re.compile(r"[\u0e00-\u0eff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")


def _example(entry: str) -> str:
    """An entry as a shop would print it: `#` a number, a stem as written, `*` a word."""
    words = entry.replace("#", "3").split(" ")
    return " ".join("word" if w == "*" else w[:-1] if w.endswith("*") and len(w) > 1 else w for w in words)


def _beside(entry: str, side: str, amount: str) -> str:
    text = _example(entry)
    if side == "before":
        return text + ("" if _SPACELESS.match(text[-1]) else " ") + amount
    return amount + ("" if _SPACELESS.match(text[0]) else " ") + text


def _entries(sides: tuple[str, ...], kinds: set[Kind] | None = None, exclude: set[Kind] = frozenset()):
    for lang, table in LEXICON.items():
        for kind, wording in table.items():
            if (kinds is not None and kind not in kinds) or kind in exclude:
                continue
            for side in sides:
                for entry in getattr(wording, side):
                    yield pytest.param(lang, kind, side, entry, id=f"{lang}-{kind.value}-{side}-{entry}")


def _page(lang: str, *blocks: str) -> str:
    body = "".join(f'<div class="price"><span>{block}</span></div>' for block in blocks)
    return (f'<html lang="{lang}"><head><title>Trail Runner 3 Shoe</title></head><body><main>'
            f'<div class="product"><h1>Trail Runner 3 Shoe</h1><div class="price-box">{body}</div></div>'
            "</main></body></html>")


@pytest.mark.parametrize(("lang", "kind", "side", "entry"), list(_entries(("before", "after"))))
def test_each_entry_beside_an_amount_is_classified_as_its_kind(lang, kind, side, entry):
    other = AMOUNTS[lang][0]
    text = _example(entry)
    if side == "before":
        assert amount_kind(before=text + " ") == kind
        assert amount_kind(before=text + (" " if not _SPACELESS.match(text[-1]) else "")) == kind
    else:
        assert amount_kind(before=other, after=" " + text) == kind


@pytest.mark.parametrize(
    ("lang", "kind", "side", "entry"), list(_entries(("before", "after"), exclude={Kind.PRICE, Kind.FROM}))
)
def test_the_real_price_beside_an_amount_of_another_kind_is_chosen(lang, kind, side, entry):
    other, real, value = AMOUNTS[lang]
    # The other amount comes first and is lower: left unrecognised, it would tie with the price
    # or pass for a sale price beside a regular one.
    result = extract(_page(lang, _beside(entry, side, other), real))
    assert result.price == Decimal(value), result.reason


@pytest.mark.parametrize(("lang", "kind", "side", "entry"), list(_entries(("far",))))
def test_a_far_label_a_few_words_before_an_amount_rules_it_out(lang, kind, side, entry):
    other, real, value = AMOUNTS[lang]
    result = extract(_page(lang, f"{_example(entry)} (EU) – info: {other}", real))
    assert result.price == Decimal(value), result.reason


@pytest.mark.parametrize(("lang", "kind", "side", "entry"), list(_entries(("before", "after"), kinds={Kind.PRICE})))
def test_a_price_label_keeps_its_amount_the_price(lang, kind, side, entry):
    _other, real, value = AMOUNTS[lang]
    assert extract(_page(lang, _beside(entry, side, real))).price == Decimal(value)


@pytest.mark.parametrize(("lang", "kind", "side", "entry"), list(_entries(("before", "after"), kinds={Kind.FROM})))
def test_a_from_price_is_the_price_alone_and_no_price_over_a_list_of_options(lang, kind, side, entry):
    other, real, value = AMOUNTS[lang]
    assert extract(_page(lang, _beside(entry, side, real))).price == Decimal(value)
    options = f"<select><option>S {other}</option><option>XL {real}</option></select>"
    page = _page(lang, _beside(entry, side, real)).replace("</h1>", f"</h1>{options}")
    result = extract(page)
    assert result.price is None
    assert "range" in result.reason


def test_short_words_count_only_next_to_an_amount():
    assert amount_kind(before="Made in Germany, ") is None
    assert amount_kind(before="Werkstatt ") is None  # "statt" inside a word
    assert amount_kind(before="ab ") == Kind.FROM
    assert amount_kind(before="od ") == Kind.FROM
    assert amount_kind(before="ab Werk, ") is None


def test_the_longest_wording_decides_the_kind():
    assert amount_kind(before="Envío gratis a partir de ") == Kind.SHIPPING
    assert amount_kind(before="a partir de ") == Kind.FROM
    assert amount_kind(before="List price: ") == Kind.WAS


def test_chinese_instalments_beside_the_price_are_not_the_price():
    page = _page("zh", "3期0利率 每期$98", "$294")
    assert extract(page).price == Decimal("294")

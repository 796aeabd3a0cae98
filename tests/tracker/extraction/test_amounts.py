"""The amount grammar and CLDR currencies: every notation read exactly or refused, never
read as another number."""

import gzip
from decimal import Decimal
from pathlib import Path

import pytest
from babel.numbers import format_currency
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.extraction import extract
from tracker.extraction.currencies import TABLE_PATH, currency_table, currency_table_build
from tracker.extraction.evidence import PageEvidence, page_evidence
from tracker.extraction.parsing import amount_reading, find_amounts, parse_amount, parse_currency


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("44 890 тг.", "44890", "KZT"),
        ("131 990 ₸", "131990", "KZT"),
        ("30,000원", "30000", "KRW"),
        ("1 299 грн", "1299", "UAH"),
        ("₹1,29,999", "129999", "INR"),
        ("S/ 1,299.90", "1299.90", "PEN"),
        ("1,299 ر.س", "1299", "SAR"),
        ("1,299 ر.س.\u200f", "1299", "SAR"),
        ("￥1,298", "1298", "JPY"),
        ("1,298円", "1298", "JPY"),
        ("99元", "99", "CNY"),
        ("2 399,00 zł", "2399", "PLN"),
        ("1 299,50 Kč", "1299.50", "CZK"),
        ("149,99 lei", "149.99", "RON"),
        ("R$ 1.299,90", "1299.90", "BRL"),
        ("6,385.0 EGP", "6385", "EGP"),
        ("EGP 13,499", "13499", "EGP"),
        ("L.E 12.00", "12", "EGP"),
        ("$1\u200b2\u200b3\u200b4.56", "1234.56", "USD"),
        ("٩٩٫٩٩ ج.م.\u200f", "99.99", "EGP"),
        ("€ ١٬٢٩٩٫٥٠", "1299.50", "EUR"),
        ("＄１，２９９．００", "1299.00", "USD"),
        ("₹ १,२९९", "1299", "INR"),
    ],
)
def test_it_reads_prices_in_the_worlds_currencies(text, amount, currency):
    found = find_amounts(text)
    assert [(t.amount, t.currency) for t in found] == [(Decimal(amount), currency)]
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("1e5", "exponent"),
        ("1E+2", "exponent"),
        ("19.99e2", "exponent"),
        (1e-320, "not a price"),
        (1e16, "not a price"),
        ("1_000", "underscore"),
        ("1/2", "fraction"),
        ("$1/2", "fraction"),
        ("½", "fraction"),
        ("NaN", "finite"),
        (float("nan"), "not a price"),
        ("Infinity", "finite"),
        (float("inf"), "not a price"),
        ("-19.99", "negative"),
        (-5, "zero or less"),
        ("0", "zero"),
        ("0.00", "zero"),
        (0, "zero"),
        ("0.001", "rounds to nothing"),
        ("0.004", "rounds to nothing"),
        ("12345678901", "more digits"),
        ("$12,345,678,901.00", "more digits"),
        (True, "yes/no"),
        ("$\u202e99.91", "bidi"),
        ("\u202d1299\u202c €", "bidi"),
        ("1.299", "1299 or 1.299"),  # a machine value with three decimals and no currency with three
        ("1,2,3.45", "grouped"),
        ("$1,29,999", "lakh"),
        ("1.299.99 €", "not a number"),
    ],
)
def test_it_refuses_hostile_notations_with_a_reason(value, why):
    reading = amount_reading(value)
    assert reading.amount is None
    assert why in (reading.reason or "").lower() or (why == "not a number" and reading.reason)


@pytest.mark.parametrize("value", ["1e5", "1E+2", "19.99e2", "1_000", "1/2", "$1\u200b2\u200b3\u200b4.56"])
def test_json_ld_prices_are_read_exactly_or_not_at_all(value):
    html = (
        '<html><head><script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product",'
        f' "name": "Lamp", "offers": {{"@type": "Offer", "price": "{value}", "priceCurrency": "USD"}}}}'
        "</script></head><body><h1>Lamp</h1></body></html>"
    )
    result = extract(html)
    assert result.price in (None, Decimal("1234.56"))
    assert result.price == (Decimal("1234.56") if value.startswith("$") else None)


@pytest.mark.parametrize(
    ("price", "currency", "amount"),
    [("24.990", "CLP", "24990"), ("1.299", "JPY", "1299"), ("1.299", "EUR", None), ("1299.50", "JPY", None),
     ("12.500", "KWD", "12.50"), ("12.505", "KWD", None), ("16.6667", "EUR", "16.67"), (19.99, "EUR", "19.99")],
)
def test_structured_prices_use_the_currencys_minor_units(price, currency, amount):
    value = f'"{price}"' if isinstance(price, str) else price
    html = (
        '<html><head><script type="application/ld+json">{"@type": "Product", "name": "Wok", "offers": '
        f'{{"@type": "Offer", "price": {value}, "priceCurrency": "{currency}"}}}}</script></head>'
        "<body><h1>Wok</h1></body></html>"
    )
    result = extract(html)
    assert result.price == (Decimal(amount) if amount else None)
    if amount:
        assert result.currency == currency


def test_model_numbers_and_single_letters_are_not_prices():
    assert find_amounts("AMD 3700X, PHP 8x, 12 ر, TOP 10") == []


def test_a_structured_price_printed_in_arabic_indic_digits_counts_as_shown():
    html = (
        '<html lang="ar-EG"><head><script type="application/ld+json">{"@type": "Product", "name": "Kettle",'
        ' "offers": {"@type": "Offer", "price": "1299.50", "priceCurrency": "EGP"}}</script></head><body>'
        '<h1>Kettle</h1><div class="price">١٬٢٩٩٫٥٠ ج.م.\u200f</div></body></html>'
    )
    result = extract(html)
    assert (result.price, result.currency) == (Decimal("1299.50"), "EGP")
    assert result.confidence >= 0.95  # the page shows it: not a price only JavaScript renders


def test_a_price_shown_in_another_currency_than_the_page_declares_is_no_price():
    page = (
        '<html><head><meta property="product:price:currency" content="{code}"></head><body><h1>Lamp</h1>'
        '<div class="product-price">$19.99</div></body></html>'
    )
    refused = extract(page.format(code="EUR"))
    assert refused.price is None and "declares EUR" in refused.reason
    assert (extract(page.format(code="CAD")).price, extract(page.format(code="CAD")).currency) == (
        Decimal("19.99"), "CAD"
    )


def test_a_tiny_opengraph_amount_is_no_price():
    html = (
        '<html><head><meta property="og:title" content="Lamp"><meta property="product:price:amount" '
        'content="0.001"><meta property="product:price:currency" content="USD"></head><body><h1>Lamp</h1></body></html>'
    )
    assert extract(html).price is None


@pytest.mark.parametrize(
    ("language", "currencies", "text", "amount", "currency"),
    [
        ("es-CL", ("CLP",), "$24.990", "24990", "CLP"),
        ("ja", ("JPY",), "¥1.299", "1299", "JPY"),
        ("en-CA", ("CAD",), "$1,299.99", "1299.99", "CAD"),
        ("nb-NO", ("NOK",), "1 299 kr", "1299", "NOK"),
        ("zh-CN", ("CNY",), "¥1,299", "1299", "CNY"),
        ("ru-RU", ("RUB",), "47 405Р", "47405", "RUB"),
        ("ar-SA", ("SAR",), "SR1,550", "1550", "SAR"),
        ("ar", ("KWD",), "KWD 12.500", "12.50", "KWD"),
    ],
)
def test_the_pages_locale_settles_shared_symbols_and_separators(language, currencies, text, amount, currency):
    with page_evidence(PageEvidence(language, currencies, currencies)):
        assert [(t.amount, t.currency) for t in find_amounts(text)] == [(Decimal(amount), currency)]


@pytest.mark.parametrize(
    ("language", "currencies", "text"),
    [
        ("ja", ("JPY",), "¥1,299.50"),  # the yen has no cents
        ("es-CL", ("CLP",), "$24.990,50"),
        (None, ("KWD",), "KWD 1,299"),  # thousands or three decimals: nothing says which
        ("de-DE", ("EUR",), "1,299 €"),  # a German page: 1,299 would be a price with three decimals
    ],
)
def test_conflicting_or_unsettled_evidence_gives_no_price(language, currencies, text):
    with page_evidence(PageEvidence(language, currencies, currencies)):
        assert find_amounts(text) == []


def test_symbols_that_are_also_units_need_the_pages_evidence():
    assert find_amounts("Pack of 3 L, 500 K, TOP 10") == []
    with page_evidence(PageEvidence("en-ZA", ("ZAR",), ())):
        assert [t.currency for t in find_amounts("R 1 299,00")] == ["ZAR"]


def test_the_page_locale_comes_from_its_markup_and_address():
    page = '<html lang="{lang}"><body><h1>Wok</h1><p class="price">$24.990</p></body></html>'
    assert extract(page.format(lang="es-CL")).currency == "CLP"
    assert extract(page.format(lang="es"), url="http://127.0.0.1.cl/wok").price == Decimal("24990")
    assert extract(page.format(lang="es"), url="http://shop.cl/wok").currency == "CLP"


@pytest.mark.parametrize(("value", "code"), [("₸", "KZT"), ("грн", "UAH"), ("원", "KRW"), ("元", "CNY"), ("￥", "JPY"),
                                             ("Kč", "CZK"), ("S/", "PEN"), ("₹", "INR"), ("ر.س", "SAR"), ("ABC", None)])
def test_parse_currency_knows_every_cldr_symbol(value, code):
    assert parse_currency(value) == code


def test_the_symbol_table_is_what_the_pinned_babel_gives():
    built = currency_table_build()
    assert {k: tuple(v) for k, v in built.items()} == currency_table(), (
        f"rerun `python -m tracker.extraction.currencies` to rewrite {TABLE_PATH.name}"
    )


# --- properties ---------------------------------------------------------------------------------

_DIGITS = {"latin": "0123456789", "arabic-indic": "٠١٢٣٤٥٦٧٨٩", "devanagari": "०१२३४५६७८९",
           "full-width": "０１２３４５６７８９", "thai": "๐๑๒๓๔๕๖๗๘๙", "bengali": "০১২৩৪৫৬৭৮৯"}
_CURRENCIES = [("€", "EUR", 2), ("$", "USD", 2), ("£", "GBP", 2), ("zł", "PLN", 2), ("₹", "INR", 2), ("¥", "JPY", 0),
               ("₸", "KZT", 2), ("грн", "UAH", 2), ("CHF", "CHF", 2), ("원", "KRW", 0), ("S/", "PEN", 2)]


def _group(whole: str, sep: str, lakh: bool) -> str:
    if not sep:
        return whole
    head, tail = whole[:-3], whole[-3:]
    groups = [tail]
    size = 2 if lakh else 3
    while head:
        groups.insert(0, head[-size:])
        head = head[:-size]
    return sep.join(groups)


@st.composite
def written_prices(draw):
    symbol, code, units = draw(st.sampled_from(_CURRENCIES))
    whole = draw(st.integers(min_value=1, max_value=9_999_999))
    cents = draw(st.integers(min_value=0, max_value=99)) if units else 0
    decimal = draw(st.sampled_from([".", ",", "٫"]))
    group = draw(st.sampled_from(["", " ", "\u00a0", "\u202f", "'", "’", "٬", "." if decimal != "." else ",",
                                  "," if decimal != "," else "."]))
    lakh = code == "INR" and group == "," and draw(st.booleans())
    text = _group(str(whole), group, lakh)
    show_cents = cents or draw(st.booleans()) and units
    if show_cents:
        text += decimal + f"{cents:02d}"
    elif draw(st.booleans()) and group not in (".", ",") and decimal != "٫":
        text += decimal + "-"
    digits = _DIGITS[draw(st.sampled_from(sorted(_DIGITS)))]
    text = text.translate(str.maketrans("0123456789", digits))
    space = draw(st.sampled_from(["", " ", "\u00a0", "\u200b"]))
    text = f"{symbol}{space}{text}" if draw(st.booleans()) else f"{text}{space}{symbol}"
    if draw(st.booleans()):
        text = text.replace("", "\u200b")[1:-1]  # zero-width spaces everywhere
    return text, Decimal(whole) + Decimal(cents) / 100, code


@given(written_prices(), st.sampled_from([None, "en-US", "de-DE", "fr-FR", "hi-IN", "ja-JP", "ar-EG"]))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_written_price_is_read_back_exactly_or_refused(written, language):
    text, amount, code = written
    with page_evidence(PageEvidence(language, (code,), ())):
        found = find_amounts(text)
        read = parse_amount(text)
    assert read in (None, amount), text
    assert all(t.amount == amount for t in found), text


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2),
    st.sampled_from(["en_US", "de_DE", "fr_FR", "de_CH", "hi_IN", "en_IN", "ar_EG", "ja_JP", "es_CL", "pl_PL",
                     "ru_RU", "kk_KZ", "uk_UA", "ko_KR", "pt_BR", "fa_IR", "bn_BD", "th_TH", "cs_CZ"]),
    st.sampled_from(["USD", "EUR", "INR", "JPY", "CLP", "PLN", "KZT", "UAH", "KRW", "BRL", "EGP", "CZK", "CHF"]),
    st.sampled_from(["latn", "default"]),
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_prices_cldr_formats_for_a_locale_are_read_exactly(amount, locale, code, numbering):
    """What Babel writes for a locale and currency is read back, to the cent, on a page in
    that locale declaring that currency (or refused: never another number)."""
    if code in ("JPY", "CLP", "KRW"):
        amount = amount.to_integral_value()
        if amount == 0:
            return
    text = format_currency(amount, code, locale=locale, numbering_system=numbering)
    with page_evidence(PageEvidence(locale.replace("_", "-"), (code,), (code,))):
        read = parse_amount(text, currency=code)
        found = find_amounts(text)
    assert read in (None, amount), text
    assert [t.amount for t in found] in ([], [amount]), text
    if numbering == "latn" and amount >= 1:
        assert read == amount, text


_TESTS = next(folder for folder in Path(__file__).resolve().parents if folder.name == "tests")
_WORLD = _TESTS / "fixtures" / "pages" / "world"


@pytest.mark.parametrize(("name", "amount"), [("radioshack-com-eg", "6385.00"), ("herobabystore-com", "12.00")])
def test_real_egyptian_shops_are_read_in_egyptian_pounds(name, amount):
    """`6,385.0 EGP` and `L.E 12.00` were "no price-like text" with the hand-written table."""
    result = extract(gzip.decompress((_WORLD / f"{name}.html.gz").read_bytes()))
    assert (result.price, result.currency) == (Decimal(amount), "EGP")


@given(
    st.integers(min_value=0, max_value=99_999),
    st.sampled_from(["e", "E", "e+", "E-", "_", "/", "⁄", " / "]),
    st.integers(min_value=0, max_value=999),
    st.sampled_from(["", "$", "€ ", "USD "]),
)
@settings(max_examples=300, deadline=None)
def test_hostile_notations_are_never_read_as_a_number(head, joint, tail, symbol):
    text = f"{symbol}{head}{joint}{tail}"
    assert parse_amount(text) is None, text
    assert find_amounts(text) == [], text


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.decimals(allow_nan=True)))
@settings(max_examples=400, deadline=None)
def test_structured_numbers_are_read_exactly_or_refused(value):
    read = parse_amount(value)
    if read is None:
        return
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    assert read > 0
    # The cent it rounds to only when the value carries computing noise (four or more decimals).
    assert read == exact or (abs(read - exact) < Decimal("0.005") and -exact.as_tuple().exponent >= 4)

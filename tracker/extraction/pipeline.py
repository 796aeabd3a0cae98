"""The extraction pipeline: structured data first, then the store's pattern, then heuristics.

The page is parsed once and the tree shared by every layer. Layers check one another: a
structured price the page never shows, or a pattern that reads another amount than the
structured data, is a disagreement — the result is flagged and carries no price, so nothing
doubtful is recorded.
"""

from __future__ import annotations

import itertools
import re
from decimal import Decimal

from lxml import etree

from . import budget
from .amounts import text_fold
from .budget import PageBudgetExceeded, cpu_budget, page_refusal, tree_refusal
from .evidence import PageEvidence, evidence_declare, page_evidence, page_evidence_read
from .heuristics import (
    HeuristicResult,
    availability_near_title,
    heuristic_price,
    price_among,
    price_in_range,
)
from .parsing import _CUR_SIGN, _CUR_WORD, currency_of_symbol, parse_html
from .patterns import PatternMatch, PatternSpec, apply_pattern
from .price_checks import price_struck_everywhere
from .result import ExtractionResult
from .structured import StructuredVerdict, structured_verdict
from .wording import AFTER_TIGHT, FAR_LABELS, NET_AFTER, NET_BEFORE, SHOWN_AS_OTHER

MAX_HTML_CHARS = 5_000_000


def extract(
    html: str | bytes,
    *,
    url: str | None = None,
    pattern: PatternSpec | None = None,
    use_heuristics: bool = True,
) -> ExtractionResult:
    """Read price, currency, availability, title and image from a product page.

    Pure: no database, no network. When no confident price is found, `price` is None and
    `reason` says why; when layers disagree, `flagged` is set and `disagreements` lists
    what each layer read. Input beyond MAX_HTML_CHARS is cut off.
    """
    if not html or not (html[:5000].strip() if isinstance(html, (str, bytes)) else ""):
        return ExtractionResult(reason="the page is empty")
    if len(html) > MAX_HTML_CHARS:
        html = html[:MAX_HTML_CHARS]
    # The page budget (budget.py): pathological structure is refused before lxml sees it,
    # and the layers read the tree under a CPU budget.
    refusal = page_refusal(html)
    if refusal:
        return ExtractionResult(reason=refusal)
    try:
        with cpu_budget():
            tree = parse_html(html, budget_checked=True)
            if tree is None:
                return ExtractionResult(reason="the page is not readable HTML")
            refusal = tree_refusal(tree)
            if refusal:
                return ExtractionResult(reason=refusal)
            return extract_tree(tree, pattern=pattern, use_heuristics=use_heuristics, url=url)
    except PageBudgetExceeded:
        return ExtractionResult(reason=f"reading the page took more than {budget.CPU_SECONDS:g} s of CPU; not read")


def extract_tree(
    tree: etree._Element, *, pattern: PatternSpec | None = None, use_heuristics: bool = True,
    url: str | None = None,
) -> ExtractionResult:
    """`extract` on an already parsed page; `url` (when known) is locale evidence."""
    evidence = page_evidence_read(tree, url=url)
    with page_evidence(evidence):
        return _extract_tree(tree, pattern=pattern, use_heuristics=use_heuristics, evidence=evidence)


def _extract_tree(
    tree: etree._Element, *, pattern: PatternSpec | None, use_heuristics: bool, evidence: PageEvidence
) -> ExtractionResult:
    page_title = _page_title(tree)
    verdict = structured_verdict(tree, page_title=_document_title(tree) + " " + (page_title or ""))
    evidence_declare(verdict.currency)
    title = verdict.title or page_title
    # The page's own currency, weakest evidence last: declared meta, locale, domain, language.
    hint = evidence.currencies[0] if evidence.currencies else None
    match = apply_pattern(tree, pattern) if pattern is not None else None
    heuristic: HeuristicResult | None = None

    def heuristics() -> HeuristicResult | None:
        nonlocal heuristic
        if heuristic is None and use_heuristics:
            heuristic = heuristic_price(tree, currency_hint=verdict.currency or hint)
        return heuristic

    result = ExtractionResult(title=title, image=verdict.image)
    if verdict.price is not None:
        _from_structured(result, verdict, tree, heuristics)
    elif verdict.values:
        _from_conflicting_structured(result, verdict, heuristics)
    if match is not None:
        _with_pattern(result, match, verdict)
    if result.price is None and not result.flagged and not result.method:
        if verdict.has_range and not verdict.values:
            _from_range(result, verdict, heuristics)
        else:
            found = heuristics()
            if found is not None and found.price is not None:
                result.price = found.price
                result.currency = found.currency
                result.method = "heuristic"
                result.confidence = found.confidence
                result.selector = found.selector.selector if found.selector else None
            else:
                reasons = [r for r in (verdict.reason, result.reason, found.reason if found else None) if r]
                reasons = list(dict.fromkeys(reasons))
                result.reason = "; ".join(reasons) or "no price found"
    if result.price is not None:
        result.currency = result.currency or verdict.currency or hint or "USD"
    result.availability = verdict.availability
    if result.availability is None and use_heuristics:
        # Reuse a full heuristic run when one happened; otherwise look only near the title.
        result.availability = heuristic.availability if heuristic is not None else availability_near_title(tree)
    if match is not None and match.availability is not None and result.method == "pattern":
        result.availability = match.availability
    if result.price is None:
        result.confidence = 0.0
    return result


def _from_structured(result: ExtractionResult, verdict: StructuredVerdict, tree, heuristics) -> None:
    price = verdict.price
    result.price = price
    result.currency = verdict.currency
    result.method = verdict.method
    text = _visible_text(tree)
    shown = _price_shown(text, price)
    if shown == "absent":
        # Printed in other digits (`١٬٢٩٩٫٥٠`) or with zero-width characters inside?
        text = text_fold(text)
        shown = _price_shown(text, price)
    if shown == "clean" and price_struck_everywhere(tree, price, shown=_price_shown):
        shown = "labelled"
    if shown == "clean":
        result.confidence = 0.95
        return
    if shown == "range":
        result.price = result.method = None
        result.reason = f"structured data says {price} but the page shows it only as one end of a price range"
        return
    if shown == "labelled":
        found = heuristics()
        if found is not None and found.price == price:
            # The DOM reading, which knows hidden labels and crossed-out blocks, takes the
            # same amount for the price: two layers agree.
            result.confidence = 0.85
            return
        if found is not None and found.price is not None and _gross_of_net(text, price, found.price):
            # Shops that sell to businesses publish the net price; the shopper pays the gross one.
            result.price = found.price
            result.currency = verdict.currency or found.currency
            result.method = "heuristic"
            result.confidence = found.confidence
            result.selector = found.selector.selector if found.selector else None
            return
        _disagree(
            result,
            f"structured data says {price} but the page shows it only as another kind of amount "
            "(was, net, shipping, instalment...)",
            {"layer": verdict.method, "price": str(price)},
        )
        if found is not None and found.price is not None:
            result.disagreements.append({"layer": "heuristic", "price": str(found.price)})
        return
    # The page never prints the structured price: believe it only if the page shows no
    # other convincing price (prices rendered by JavaScript are common).
    found = heuristics()
    if found is not None and found.price is not None and found.price != price and found.price in verdict.values:
        # A sale price in meta tags, but the page shows the regular price another syntax states.
        result.price = found.price
        result.method = f"{verdict.values[found.price][0]}+heuristic"
        result.confidence = 0.85
        return
    if found is not None and found.price is not None and found.price != price:
        _disagree(
            result,
            f"structured data says {price} but the page shows {found.price}",
            {"layer": verdict.method, "price": str(price)},
            {"layer": "heuristic", "price": str(found.price)},
        )
        return
    result.confidence = 0.75


def _from_conflicting_structured(result: ExtractionResult, verdict: StructuredVerdict, heuristics) -> None:
    """Several structured prices (variants, other sellers, a wrong meta tag): the visible page
    decides, or nothing is recorded."""
    found = heuristics()
    if found is not None and found.price is not None and found.price in verdict.values:
        result.price = found.price
        result.currency = verdict.currency or found.currency
        result.method = f"{verdict.values[found.price][0]}+heuristic"
        result.confidence = 0.85
        return
    picked = price_among(found, verdict.values) if found is not None else None
    if picked is not None:
        result.price = picked.amount
        result.currency = verdict.currency or picked.currency
        result.method = f"{verdict.values[picked.amount][0]}+heuristic"
        result.confidence = 0.75
        return
    if found is not None and found.price is not None:
        shown = ", ".join(str(v) for v in verdict.values)
        _disagree(
            result,
            f"structured data says {shown} but the page shows {found.price}",
            {"layer": "structured", "price": shown},
            {"layer": "heuristic", "price": str(found.price)},
        )
        return
    result.reason = verdict.reason
    result.method = None


def _from_range(result: ExtractionResult, verdict: StructuredVerdict, heuristics) -> None:
    """An AggregateOffer with a low and a high price (sizes, colours, sellers): the price is
    the one amount the main product's buy box shows inside the range, or there is none."""
    low, high = verdict.price_range or (None, None)
    found = heuristics()
    picked, why = price_in_range(found, low=low, high=high) if low is not None and found is not None else (None, None)
    if picked is None:
        shown = f" ({low} to {high})" if low is not None else ""
        result.reason = f"the page's structured data gives only a price range{shown}" + (f" and {why}" if why else "")
        return
    result.price = picked.amount
    result.currency = verdict.currency or picked.currency
    result.method = f"{verdict.range_method}+heuristic"
    result.confidence = 0.75
    result.selector = found.selector.selector if found.selector and found.price == picked.amount else None


def _with_pattern(result: ExtractionResult, match: PatternMatch, verdict: StructuredVerdict) -> None:
    if not match.ok:
        if result.price is None and not result.flagged:
            result.reason = f"pattern: {match.errors.get('price')}"
        return
    if result.price is not None:
        if match.price == result.price:
            result.confidence = max(result.confidence, 0.95)
            return
        _disagree(
            result,
            f"the store's pattern reads {match.price} but {result.method} says {result.price}",
            {"layer": result.method, "price": str(result.price)},
            {"layer": "pattern", "price": str(match.price)},
        )
        return
    if result.flagged:
        return
    if verdict.values and match.price not in verdict.values:
        shown = ", ".join(str(v) for v in verdict.values)
        _disagree(
            result,
            f"the store's pattern reads {match.price} but structured data says {shown}",
            {"layer": "structured", "price": shown},
            {"layer": "pattern", "price": str(match.price)},
        )
        return
    result.price = match.price
    result.currency = match.currency
    result.method = "pattern"
    result.confidence = 0.85
    result.title = match.title or result.title
    result.image = match.image or result.image
    result.reason = None


def _disagree(result: ExtractionResult, reason: str, *layers: dict) -> None:
    result.flagged = True
    result.price = None
    result.method = None
    result.confidence = 0.0
    result.reason = f"layers disagree: {reason}"
    result.disagreements.extend(layers)


_INVISIBLE_TAGS = ("script", "style", "noscript", "template")


def _visible_text(tree: etree._Element) -> str:
    """The body's text with script, style and template contents cut out, whitespace folded.

    Serialising the body as text happens in C; cutting the few script texts out afterwards is
    much cheaper than testing the parent of every text node in Python.
    """
    body = tree.find(".//body")
    if body is None:
        return ""
    text = etree.tostring(body, method="text", encoding="unicode", with_tail=False)
    # iter() with tag names filters in C: a tenth of the cost of the same XPath union.
    for block in itertools.islice(body.iter(*_INVISIBLE_TAGS), 500):
        inner = block.text if block.tag in ("script", "style") else etree.tostring(
            block, method="text", encoding="unicode", with_tail=False
        )
        if inner and len(inner) > 3:
            text = text.replace(inner, " ", 1)
    return " ".join(text.split())


_TRAILING_CURRENCY = re.compile(rf"\s*(?:{_CUR_WORD}|{_CUR_SIGN})\s*$")
_LEADING_CURRENCY = re.compile(rf"^\s*(?:{_CUR_WORD}|{_CUR_SIGN})")


def _amount_pattern(price: Decimal) -> re.Pattern:
    """The amount as pages print it: `1,299.00`, `1.299,00`, `1 299`, `1299`, `3157` (not `55%`)."""
    whole, _, cents = f"{price:.2f}".partition(".")
    groups = []
    head = whole
    while len(head) > 3:
        groups.insert(0, head[-3:])
        head = head[:-3]
    groups.insert(0, head)
    number = r"[.,'’\u00a0\u202f ]?".join(groups)
    tail = rf"(?:[.,]\s?{cents}|{cents})" if cents != "00" else r"(?:[.,]\s?00?|,-)?"
    return re.compile(rf"(?<![\d.,]){number}{tail}(?![\d]|[.,]\d|\s?%)")


def _price_shown(text: str, price: Decimal) -> str:
    """How the page text prints this amount: "clean" (as a price), "labelled" (only as a
    was/net/shipping/instalment amount), "range" (only as one end of a price range) or "absent". Usual forms count: `1,299.00`,
    `1.299,00`, `1 299`, `1299`, and `3157` for `$31<sup>57</sup>`."""
    shown = "absent"
    for seen, found in enumerate(_amount_pattern(price).finditer(text)):
        if seen >= 50:
            break
        before = _TRAILING_CURRENCY.sub("", text[max(0, found.start() - 45):found.start()])
        after = text[found.end():found.end() + 40]
        if _RANGE_AFTER.match(after) or _RANGE_BEFORE.search(before):
            shown = "range" if shown != "labelled" else shown
            continue
        if not SHOWN_AS_OTHER.search(before) and not FAR_LABELS.search(before) and not AFTER_TIGHT.match(after):
            return "clean"
        shown = "labelled"
    return shown


# "$55.00 - $57.00": an amount that is one end of a printed range (not "-10%", a discount).
_RANGE_AFTER = re.compile(rf"^\s*(?:{_CUR_WORD}|{_CUR_SIGN})?\s*(?:-|–|—|to)\s*(?:{_CUR_WORD}|{_CUR_SIGN})\s?\d")
_RANGE_BEFORE = re.compile(rf"(?:{_CUR_WORD}|{_CUR_SIGN})\s?\d[\d.,]*\s*(?:{_CUR_WORD}|{_CUR_SIGN})?\s*(?:-|–|—|to)\s*$")


# Standard and reduced VAT rates (%), from 5 % (e.g. UK reduced, Canada GST) to 27 % (Hungary).
_VAT_RATES = (5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27)


def _gross_of_net(text: str, net: Decimal, gross: Decimal) -> bool:
    """True when the page labels `net` as a price before tax and `gross` is exactly that
    price with a VAT rate added (to the cent)."""
    if not any(abs(net * (100 + rate) / 100 - gross) <= Decimal("0.01") for rate in _VAT_RATES):
        return False
    for found in _amount_pattern(net).finditer(text):
        before = _TRAILING_CURRENCY.sub("", text[max(0, found.start() - 30):found.start()])
        after = _LEADING_CURRENCY.sub("", text[found.end():found.end() + 30])
        if NET_BEFORE.search(before) or NET_AFTER.match(after):
            return True
    return False


def _document_title(tree: etree._Element) -> str:
    title = tree.find(".//title")
    return " ".join((title.text_content() if title is not None else "").split())[:500]


def _page_title(tree: etree._Element) -> str | None:
    h1 = tree.find(".//h1")
    text = " ".join((h1.text_content() if h1 is not None else "").split())
    return text[:500] or _document_title(tree) or None


__all__ = ["extract", "extract_tree", "currency_of_symbol"]

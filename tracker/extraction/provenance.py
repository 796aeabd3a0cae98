"""Why a price is believed: where on the page it was read, and the text it was read from. Pure.

Kept with every price point and shown in the check log and on the chart, so a person can see
at a glance that 49.90 came from `JSON-LD offers.price` in `"price": "49.90"`, or from the
store's pattern `.buy-box .price` in `€ 49,90`.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from decimal import Decimal

from lxml import etree

from .parsing import parse_amount
from .patterns import PatternMatch, PatternSpec
from .result import ExtractionResult

MAX_TEXT = 200
MAX_SOURCE = 200
LAYOUT_ELEMENTS = 400

_PRICE_KEY = re.compile(r'"(?:price|lowPrice|highPrice)"\s*:\s*"?([0-9][0-9.,\s]*)"?', re.IGNORECASE)


def _short(text: str | None, limit: int = MAX_TEXT) -> str:
    folded = " ".join((text or "").split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def _amount(text: str) -> Decimal | None:
    return parse_amount(text)


def _json_ld(tree: etree._Element, price: Decimal) -> tuple[str, str] | None:
    for script in tree.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower() or not script.text:
            continue
        for found in _PRICE_KEY.finditer(script.text):
            if _amount(found.group(1)) == price:
                start = max(0, found.start() - 60)
                return "JSON-LD offers.price", _short(script.text[start : found.end() + 60])
    return None


def _microdata(tree: etree._Element, price: Decimal) -> tuple[str, str] | None:
    for element in tree.xpath('//*[@itemprop="price" or @itemprop="lowPrice"]'):
        value = element.get("content") or element.text_content()
        if _amount(value or "") == price:
            return f'microdata itemprop="{element.get("itemprop")}"', _short(_tag_text(element))
    return None


def _opengraph(tree: etree._Element, price: Decimal) -> tuple[str, str] | None:
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or ""
        if key.lower().endswith(("price:amount", "og:price")) and _amount(meta.get("content") or "") == price:
            return f'meta property="{key}"', _short(_tag_text(meta))
    return None


def _tag_text(element: etree._Element) -> str:
    """The element as a person would recognise it in the page source: its tag with the
    attributes that matter, then its text."""
    attrs = " ".join(
        f'{name}="{element.get(name)}"' for name in ("itemprop", "property", "name", "content", "class")
        if element.get(name)
    )
    text = element.text_content() if hasattr(element, "text_content") else ""
    return f"<{element.tag}{' ' + attrs if attrs else ''}> {text}".strip()


def layout_signature(tree: etree._Element) -> str:
    """The class names of the page's first LAYOUT_ELEMENTS elements (head, header, the top of
    the body), hashed: the same for two fetches of one design (tokens and timestamps live in
    text and attributes, rarely in class names), different after a redesign, so a store's
    sample pages follow a redesign even when the price reads the same. Reading the first
    elements only keeps it at a few microseconds on multi-megabyte pages."""
    names = {element.get("class") or "" for element in itertools.islice(tree.iter(), LAYOUT_ELEMENTS)}
    return hashlib.sha1(" ".join(sorted(names)).encode("utf-8", "surrogatepass")).hexdigest()[:16]


_STRUCTURED = {"json-ld": _json_ld, "microdata": _microdata, "opengraph": _opengraph}


def price_evidence(
    tree: etree._Element, result: ExtractionResult, *, match: PatternMatch | None = None,
    pattern: PatternSpec | None = None, heuristic=None,
) -> dict[str, str] | None:
    """{"source": where the price was read, "text": what it was read from} for a result with
    a price; None without one. Never raises: evidence must not cost a price."""
    if result.price is None or not result.method:
        return None
    try:
        layer = result.method.split("+")[-1]
        if layer == "pattern" and match is not None:
            source = pattern.price.selector if pattern is not None and pattern.price else "store pattern"
            return {"source": _short(f"pattern {source}", MAX_SOURCE), "text": _short(match.raw.get("price"))}
        if layer == "heuristic" and heuristic is not None:
            return _heuristic(result, heuristic)
        reader = _STRUCTURED.get(layer)
        if reader is not None:
            found = reader(tree, result.price)
            if found is not None:
                return {"source": found[0], "text": found[1]}
            return {"source": layer, "text": ""}
    except Exception:  # noqa: BLE001 - evidence is a courtesy; a page that trips it keeps its price
        return {"source": result.method, "text": ""}
    return {"source": result.method, "text": ""}


def _heuristic(result: ExtractionResult, heuristic) -> dict[str, str]:
    chosen = [
        c for c in getattr(heuristic, "candidates", []) if c.amount == result.price and not c.rejected
    ]
    best = max(chosen, key=lambda c: c.score, default=None)
    text = ""
    if best is not None:
        text = best.text or (best.element.text_content() if hasattr(best.element, "text_content") else "")
        if best.element is not None and hasattr(best.element, "text_content"):
            text = _tag_text(best.element) if len(_short(text)) < 8 else text
    selector = result.selector or (heuristic.selector.selector if heuristic.selector else "")
    return {"source": _short(f"heuristics {selector}".strip(), MAX_SOURCE), "text": _short(text)}

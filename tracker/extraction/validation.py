"""Whether an extraction pattern can be trusted on a store's pages: pure, no database.

A pattern proposed by the heuristics, the LLM agent or a person becomes active only when
`spec_problems` finds nothing wrong with it on the store's recent pages; the daily health check
asks the same question again. `price_jump` tells a believable price from one ten times off.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from lxml import etree
from lxml.cssselect import CSSSelector

from .evidence import page_evidence, page_evidence_read
from .heuristics import heuristic_price
from .parsing import parse_html
from .patterns import PatternSpec, SelectorError, apply_pattern, validate_selector
from .price_checks import not_one_price
from .structured import first_with_price, structured_offers


class PageSample(Protocol):
    """A fetched page of the store (tracker.learning.llm.SamplePage, a stored ListingPage)."""

    url: str
    html: str


FIELDS = ("price", "currency", "availability", "title", "image")
# A price this many times higher or lower than the listing's recent prices is not believed.
JUMP_FACTOR = Decimal(10)
_WAS_TAGS = {"del", "s", "strike"}
_WAS_CLASS = re.compile(
    r"(^|[\s_-])(was|old|strike|striked|crossed|compare|before|rrp|msrp|original)([\s_-]|$)", re.I
)


def _matched_nodes(tree: etree._Element, selector: str, kind: str) -> list:
    validate_selector(selector, kind=kind)
    try:
        if kind == "css":
            found = CSSSelector(selector.strip(), translator="html")(tree)
        else:
            found = etree.XPath(selector.strip())(tree)
    except (etree.XPathError, SelectorError):
        return []
    if not isinstance(found, list):
        return []
    nodes = []
    for item in found[:50]:
        if isinstance(item, etree._Element):
            nodes.append(item)
        elif hasattr(item, "getparent") and item.getparent() is not None:
            nodes.append(item.getparent())  # text or attribute results: judge their element
    return nodes


def _looks_crossed_out(node: etree._Element) -> bool:
    """A node inside <del>/<s>, struck through, or named like a "was" price."""
    current = node
    for _ in range(4):
        if current is None or not isinstance(current.tag, str):
            break
        if current.tag.lower() in _WAS_TAGS:
            return True
        if "line-through" in (current.get("style") or "").replace(" ", ""):
            return True
        names = f"{current.get('class') or ''} {current.get('id') or ''}"
        if _WAS_CLASS.search(names):
            return True
        current = current.getparent()
    return False


def spec_problems(spec: PatternSpec, pages: Sequence[PageSample]) -> list[str]:
    """Everything that keeps `spec` from being trusted on these pages; empty when it validates.

    Every selector must be safe and parse; the price selector must pick exactly one value
    that reads as a price on every page, must not be a crossed-out "was" price, and must agree
    with the page's structured data where there is any. Other selectors may miss on some
    pages (an out-of-stock page has no stock text) but must never pick several values.
    """
    problems: list[str] = []
    for name in FIELDS:
        rule = getattr(spec, name)
        if rule is None:
            continue
        try:
            validate_selector(rule.selector, kind=rule.kind, post=rule.post)
        except SelectorError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        return problems
    if not pages:
        return ["there is no page of this store to validate on"]
    missing: dict[str, int] = {}
    read = 0
    for page in pages:
        tree = parse_html(page.html)
        if tree is None:
            continue
        # Read as the pipeline reads the page: its locale and address settle `$`, `1.299`.
        with page_evidence(page_evidence_read(tree, url=page.url)):
            match = apply_pattern(tree, spec)
            structured = first_with_price(structured_offers(tree))
        for name, error in match.errors.items():
            if name != "price" and "matches nothing" in error:
                missing[name] = missing.get(name, 0) + 1
            elif name == "price" and "matches nothing" in error and _shows_no_price(tree, structured):
                continue  # e.g. sold out without a price: nothing to read, nothing wrong
            else:
                problems.append(f"{name} on {page.url}: {error}")
        if match.price is None:
            continue
        read += 1
        nodes = _matched_nodes(tree, spec.price.selector, spec.price.kind)
        if any(_looks_crossed_out(node) for node in nodes):
            problems.append(
                f"price on {page.url}: {spec.price.selector!r} picks a crossed-out 'was' price "
                f"({match.price}), not the current price"
            )
        for node in nodes[:1]:
            why = not_one_price(node, match.price)
            if why:
                problems.append(f"price on {page.url}: {spec.price.selector!r} picks {why} ({match.price})")
        if structured is not None and structured.price != match.price:
            problems.append(
                f"price on {page.url}: the selector reads {match.price} but the page's "
                f"structured data says {structured.price}"
            )
    if not read and not problems:
        problems.append(f"price: {spec.price.selector!r} reads no price on any page")
    for name, count in missing.items():
        if count == len(pages):
            problems.append(f"{name}: {getattr(spec, name).selector!r} matches nothing on any page; use null")
    return problems


def _shows_no_price(tree: etree._Element, structured) -> bool:
    """Neither structured data nor the heuristics see any price on the page."""
    return structured is None and heuristic_price(tree).price is None


def price_jump(*, price: Decimal, reference: Decimal | None) -> bool:
    """True when `price` is implausibly far (×10 or ÷10) from the listing's usual price."""
    if reference is None or reference <= 0 or price <= 0:
        return False
    return price >= reference * JUMP_FACTOR or price * JUMP_FACTOR <= reference

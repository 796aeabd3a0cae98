"""Helping a person fix a store's extraction: what each layer reads on a page, the prices on
it with a selector for each, an inert rendering where a click picks a price, and trying a
selector on the store's pages. Pure over HTML, no database."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from ..extraction.heuristics import derive_selector, heuristic_price
from ..extraction.parsing import parse_html
from ..extraction.patterns import FieldRule, PatternSpec, SelectorError, apply_pattern, select_values
from ..extraction.structured import first_with_price, structured_offers
from .llm import SamplePage

# --- what each layer reads (for people) ------------------------------------------------------------


@dataclass
class LayerReading:
    layer: str
    price: Decimal | None
    detail: str = ""


def page_layers(*, html: str, url: str = "", spec: PatternSpec | None = None) -> list[LayerReading]:
    """What structured data, the pattern, the heuristics and the whole pipeline read on a page."""
    from ..extraction import extract

    tree = parse_html(html)
    if tree is None:
        return [LayerReading("page", None, "the page is not readable HTML")]
    readings: list[LayerReading] = []
    structured = first_with_price(structured_offers(tree))
    readings.append(
        LayerReading("structured data", structured.price if structured else None,
                     structured.method if structured else "no price in structured data")
    )
    if spec is not None:
        match = apply_pattern(tree, spec)
        readings.append(LayerReading("store pattern", match.price, match.errors.get("price", spec.price.selector)))
    else:
        readings.append(LayerReading("store pattern", None, "the store has no active pattern"))
    found = heuristic_price(tree)
    readings.append(
        LayerReading("heuristics", found.price, found.selector.selector if found.selector else (found.reason or ""))
    )
    result = extract(html, url=url or None, pattern=spec)
    detail = result.method or result.reason or ""
    if result.flagged:
        detail = result.reason or "layers disagree"
    readings.append(LayerReading("pipeline (what a check records)", result.price, detail))
    return readings


@dataclass
class PriceChoice:
    amount: Decimal
    text: str
    selector: str | None
    rejected: str | None


def page_price_choices(*, html: str, limit: int = 15) -> list[PriceChoice]:
    """Prices found on a page, each with a stable selector when one exists, for a person to pick."""
    tree = parse_html(html)
    if tree is None:
        return []
    choices: list[PriceChoice] = []
    seen: set[tuple[Decimal, str | None]] = set()
    for candidate in heuristic_price(tree).candidates:
        rule = derive_selector(tree, candidate.element, candidate.amount) or _plain_selector(
            tree, candidate.element, candidate.amount
        )
        key = (candidate.amount, rule.selector if rule else None)
        if key in seen:
            continue
        seen.add(key)
        choices.append(PriceChoice(candidate.amount, candidate.text[:80], rule.selector if rule else None, candidate.rejected))
        if len(choices) >= limit:
            break
    return choices


def _css_step(el: etree._Element) -> str:
    classes = [c for c in (el.get("class") or "").split() if re.fullmatch(r"[A-Za-z_][\w-]{0,40}", c)]
    return el.tag.lower() + "".join(f".{c}" for c in classes[:3])


def _plain_selector(tree: etree._Element, element: etree._Element, amount: Decimal) -> FieldRule | None:
    """A tag-and-class selector (qualified by up to two ancestors) that reads `amount` on this
    page and nothing else; for a person's pick when the heuristics found no stable one."""
    if not isinstance(element.tag, str):
        return None
    steps = [_css_step(element)]
    for ancestor in [element, *list(element.iterancestors())[:2]]:
        if ancestor is not element:
            steps.insert(0, _css_step(ancestor))
        rule = FieldRule(selector=" ".join(steps), kind="css")
        try:
            if apply_pattern(tree, PatternSpec(price=rule)).price == amount and len(
                select_values(tree, rule)
            ) == 1:
                return rule
        except SelectorError:
            return None
    return None


@dataclass
class PageTest:
    url: str
    price: Decimal | None
    error: str


def spec_try(*, spec: PatternSpec, pages: Sequence[SamplePage]) -> list[PageTest]:
    """What a pattern reads on each page (for a person testing a selector)."""
    tested: list[PageTest] = []
    for page in pages:
        tree = parse_html(page.html)
        if tree is None:
            tested.append(PageTest(page.url, None, "the page is not readable HTML"))
            continue
        match = apply_pattern(tree, spec)
        tested.append(PageTest(page.url, match.price, match.errors.get("price", "")))
    return tested


_INERT_TAGS = ("script", "noscript", "iframe", "object", "embed", "base", "form", "frame", "frameset", "link", "meta")


def page_pickable_html(*, html: str, link_for: Callable[[str], str]) -> str:
    """The page made inert, with each price found on it turned into a link that picks it.

    For a sandboxed frame (no scripts, nothing loaded): the shop's own links are removed, so the
    only way out is a pick, which opens `link_for(selector)` in the top window.
    """
    tree = parse_html(html)
    if tree is None:
        return ""
    picks: list[tuple[etree._Element, str]] = []
    for candidate in heuristic_price(tree).candidates[:40]:
        rule = derive_selector(tree, candidate.element, candidate.amount) or _plain_selector(
            tree, candidate.element, candidate.amount
        )
        if rule is not None and rule.kind == "css" and rule.attribute is None:
            picks.append((candidate.element, rule.selector))
    for el in list(tree.iter(*_INERT_TAGS)):
        if el.getparent() is not None:
            el.drop_tree()
    etree.strip_elements(tree, etree.Comment, with_tail=False)
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        for name in list(el.attrib):
            if name.startswith("on") or name in ("href", "src", "srcset", "action", "formaction", "target"):
                del el.attrib[name]
    for element, selector in picks:
        link = etree.Element("a", href=link_for(selector), target="_top", title=f"Pick {selector}")
        link.set("class", "pricetracker-pick")
        link.text, element.text = element.text, None
        for child in list(element):
            link.append(child)
        element.append(link)
    head = tree.find(".//head")
    style = etree.Element("style")
    style.text = ".pricetracker-pick{outline:3px dashed #c0392b;background:#fff3b0;color:#000;cursor:pointer}"
    (head if head is not None else tree).insert(0, style)
    return etree.tostring(tree, encoding="unicode", method="html")

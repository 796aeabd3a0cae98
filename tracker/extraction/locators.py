"""Stable CSS selectors for an element: ids, itemprop and semantic class names, never
`nth-child` chains or generated class names, verified to pick the same amount again."""

from __future__ import annotations

import re
from decimal import Decimal

from lxml import etree

from .parsing import find_amounts, parse_amount
from .patterns import FieldRule, SelectorError, apply_rule

_GENERATED = re.compile(
    r"\d{3,}|^[a-z]{1,3}-[a-z0-9]{5,}$|^css-|^sc-|^jsx-|^_|__[a-z0-9]{4,}$|[a-f0-9]{6,}|"
    r"^ng-|^ember|^js-|^is-|^has-|active|selected|hover|focus|open|^col-|^row$|clearfix|"
    r"^[a-z]{1,2}\d|^u-|^a-(?:size|color|text|spacing)|^float|^pull-|^text-|^font-",
)


def _stable_classes(el: etree._Element) -> list[str]:
    classes = (el.get("class") or "").split()
    return [
        c for c in classes if re.fullmatch(r"[A-Za-z][\w-]{1,40}", c) and not _GENERATED.search(c.lower())
    ]


def _stable_id(el: etree._Element) -> str | None:
    value = el.get("id")
    if value and re.fullmatch(r"[A-Za-z][\w-]{1,60}", value) and not re.search(r"\d{3,}|[a-f0-9]{8,}", value):
        return value
    return None


def _step(el: etree._Element) -> list[str]:
    """Ways to name one element, most stable first."""
    steps: list[str] = []
    ident = _stable_id(el)
    if ident:
        steps.append(f"#{ident}")
    tag = el.tag.lower() if isinstance(el.tag, str) else "*"
    itemprop = el.get("itemprop")
    if itemprop and re.fullmatch(r"[A-Za-z]+", itemprop):
        steps.append(f'{tag}[itemprop="{itemprop}"]')
    classes = _stable_classes(el)
    semantic = [c for c in classes if re.search(r"price|sale|amount|current|final|product|offer", c, re.I)]
    for chosen in (semantic[:1], semantic[:2], classes[:1], classes[:2]):
        if chosen:
            steps.append(tag + "".join(f".{c}" for c in chosen))
    for name in ("data-price", "data-testid", "data-qa", "data-test"):
        value = el.get(name)
        if (
            value is not None
            and name != "data-price"
            and re.fullmatch(r"[\w-]{2,40}", value)
            and not _GENERATED.search(value)
        ):
            steps.append(f'{tag}[{name}="{value}"]')
    return list(dict.fromkeys(steps))


def derive_selector(tree: etree._Element, element: etree._Element, amount: Decimal) -> FieldRule | None:
    """A CSS selector for the element, built from ids, itemprop and semantic class names,
    that picks exactly the same amount on this page; None when no stable one exists."""
    attribute = None
    if element.get("content") and parse_amount(element.get("content")) == amount:
        attribute = "content"
    own = _step(element)
    tried = 0
    for step in own:
        for rule in _rules(step, attribute):
            tried += 1
            if _verifies(tree, rule, amount):
                return rule
    # Qualify with a stable ancestor: "#product-info .price".
    for ancestor in list(element.iterancestors())[:8]:
        if not isinstance(ancestor.tag, str) or ancestor.tag.lower() in ("html", "body"):
            break
        for outer in _step(ancestor)[:3]:
            for step in own[:4]:
                for rule in _rules(f"{outer} {step}", attribute):
                    tried += 1
                    if tried > 60:
                        return None
                    if _verifies(tree, rule, amount):
                        return rule
    return None


def _rules(css: str, attribute: str | None) -> list[FieldRule]:
    rules = [FieldRule(selector=css, kind="css", attribute=attribute)]
    if attribute:
        rules.append(FieldRule(selector=css, kind="css"))
    return rules


def _verifies(tree: etree._Element, rule: FieldRule, amount: Decimal) -> bool:
    try:
        value = apply_rule(tree, rule)
    except SelectorError:
        return False
    tokens = find_amounts(value, limit=3)
    if len({t.amount for t in tokens}) > 1:
        return False
    return parse_amount(value) == amount

"""Per-store extraction patterns as pure data, and applying them to a page.

A pattern is CSS or XPath selectors for price, currency, availability, title and image,
each with an optional attribute and a post-processing rule. Stored on
`tracker.models.ExtractionPattern` as JSON (`PatternSpec.as_dict()` / `from_dict`).

Selectors may come from an LLM or a person, so they are untrusted input: `validate_selector`
accepts CSS (translated by cssselect) and a whitelisted subset of XPath 1.0 only — no
variables, no extension or EXSLT functions, nothing that can read a file or the network
(`document()`, `doc()`, `unparsed-text()`...). Every selector must yield exactly one value.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.cssselect import SelectorError as CssSelectorError

from .parsing import parse_amount, parse_availability, parse_currency
from .result import Availability

SelectorKind = Literal["css", "xpath"]

MAX_SELECTOR_CHARS = 500
MAX_POST_CHARS = 200
MAX_VALUE_CHARS = 400
MAX_MATCHES = 50


class SelectorError(ValueError):
    """A selector that is unsafe, does not parse, or does not pick exactly one value."""


@dataclass(frozen=True)
class FieldRule:
    selector: str
    kind: SelectorKind = "css"
    attribute: str | None = None  # read this attribute instead of the text (e.g. "content")
    post: str | None = None  # post-processing rule, e.g. a regex with one group

    @classmethod
    def from_dict(cls, data: dict | None) -> FieldRule | None:
        if not data or not data.get("selector"):
            return None
        return cls(
            selector=str(data["selector"]),
            kind=data.get("kind", "css"),
            attribute=data.get("attribute") or None,
            post=data.get("post") or None,
        )


@dataclass(frozen=True)
class PatternSpec:
    price: FieldRule
    currency: FieldRule | None = None
    availability: FieldRule | None = None
    title: FieldRule | None = None
    image: FieldRule | None = None
    # A fixed currency for shops that never print one next to the price.
    default_currency: str | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PatternSpec:
        price = FieldRule.from_dict(data.get("price"))
        if price is None:
            raise ValueError("a pattern needs a price selector")
        return cls(
            price=price,
            currency=FieldRule.from_dict(data.get("currency")),
            availability=FieldRule.from_dict(data.get("availability")),
            title=FieldRule.from_dict(data.get("title")),
            image=FieldRule.from_dict(data.get("image")),
            default_currency=data.get("default_currency") or None,
            extra=dict(data.get("extra") or {}),
        )


@dataclass
class PatternMatch:
    """What a pattern read from one page. `errors` maps a field name to what went wrong."""

    price: Decimal | None = None
    currency: str | None = None
    availability: Availability | None = None
    title: str | None = None
    image: str | None = None
    raw: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """The price selector matched one value that reads as a price."""
        return self.price is not None and "price" not in self.errors


# --- selector safety -------------------------------------------------------------------------

# XPath 1.0 core functions (plus node-type tests) and nothing else.
_XPATH_FUNCTIONS = frozenset(
    {
        "last", "position", "count", "id", "local-name", "namespace-uri", "name",
        "string", "concat", "starts-with", "contains", "substring-before", "substring-after",
        "substring", "string-length", "normalize-space", "translate",
        "boolean", "not", "true", "false", "lang",
        "number", "sum", "floor", "ceiling", "round",
        "text", "node", "comment", "processing-instruction",
    }
)
_XPATH_TOKEN = re.compile(
    r"""(?P<string>"[^"]*"|'[^']*')"""
    r"""|(?P<var>\$)"""
    r"""|(?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_*][\w.\-]*)?)(?P<call>\s*\()?"""
    r"""|(?P<other>[^\s"'$A-Za-z_]+|\s+)""",
)
_AXES = frozenset(
    {
        "ancestor", "ancestor-or-self", "attribute", "child", "descendant", "descendant-or-self",
        "following", "following-sibling", "parent", "preceding", "preceding-sibling", "self",
    }
)


def _check_xpath(expression: str) -> None:
    position = 0
    for token in _XPATH_TOKEN.finditer(expression):
        if token.start() != position:
            raise SelectorError("the XPath has an unterminated string")
        position = token.end()
        if token.group("var"):
            raise SelectorError("XPath variables are not allowed")
        name = token.group("name")
        if not name:
            continue
        if ":" in name and name.split(":", 1)[0] not in _AXES:
            raise SelectorError(f"namespaced names and extension functions are not allowed: {name}")
        if token.group("call") and name not in _XPATH_FUNCTIONS:
            raise SelectorError(f"XPath function {name}() is not allowed")
    if position != len(expression):
        raise SelectorError("the XPath has an unterminated string")


@lru_cache(maxsize=512)
def _compiled(selector: str, kind: str) -> etree.XPath:
    if kind == "css":
        try:
            return CSSSelector(selector, translator="html")
        except (CssSelectorError, SyntaxError, etree.XPathSyntaxError, ValueError) as exc:
            raise SelectorError(f"the CSS selector does not parse: {exc}") from None
    _check_xpath(selector)
    try:
        return etree.XPath(selector, smart_strings=False)
    except etree.XPathSyntaxError as exc:
        raise SelectorError(f"the XPath does not parse: {exc}") from None


def validate_selector(selector: str, *, kind: str = "css", post: str | None = None) -> None:
    """Raise SelectorError unless the selector is safe to evaluate on a page.

    CSS must parse with cssselect; XPath must be XPath 1.0 using only core functions, with no
    variables and no namespaced (extension/EXSLT) names. `post`, when given, must be a regex
    with at most one group.
    """
    if kind not in ("css", "xpath"):
        raise SelectorError(f"unknown selector kind {kind!r} (use css or xpath)")
    if not isinstance(selector, str) or not selector.strip():
        raise SelectorError("the selector is empty")
    if len(selector) > MAX_SELECTOR_CHARS:
        raise SelectorError(f"the selector is longer than {MAX_SELECTOR_CHARS} characters")
    _compiled(selector.strip(), kind)
    if post is not None:
        _post_regex(post)


@lru_cache(maxsize=256)
def _post_regex(post: str) -> re.Pattern:
    if len(post) > MAX_POST_CHARS:
        raise SelectorError(f"the post-processing rule is longer than {MAX_POST_CHARS} characters")
    try:
        pattern = re.compile(post)
    except re.error as exc:
        raise SelectorError(f"the post-processing regex does not compile: {exc}") from None
    if pattern.groups > 1:
        raise SelectorError("the post-processing regex may have at most one group")
    return pattern


# --- evaluating ------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return " ".join(text.split())[:MAX_VALUE_CHARS]


def select_values(tree: etree._Element, rule: FieldRule) -> list[str]:
    """Every non-empty value the rule picks on the page, in document order."""
    validate_selector(rule.selector, kind=rule.kind, post=rule.post)
    try:
        found = _compiled(rule.selector.strip(), rule.kind)(tree)
    except etree.XPathEvalError as exc:
        raise SelectorError(f"the selector fails on this page: {exc}") from None
    if not isinstance(found, list):
        found = [found]
    values: list[str] = []
    for item in found[:MAX_MATCHES]:
        if isinstance(item, etree._Element):
            if rule.attribute:
                value = item.get(rule.attribute) or ""
            else:
                value = item.text_content() if hasattr(item, "text_content") else "".join(item.itertext())
        elif isinstance(item, bool):
            continue
        elif isinstance(item, float):
            value = "" if item != item else repr(item)
        else:
            value = str(item)
        value = _clean(value)
        if value and rule.post:
            match = _post_regex(rule.post).search(value)
            value = (match.group(1) if match and match.re.groups else match.group(0)) if match else ""
            value = _clean(value or "")
        if value:
            values.append(value)
    return values


def apply_rule(tree: etree._Element, rule: FieldRule) -> str:
    """The one value the rule picks; SelectorError when it picks none or several different."""
    values = select_values(tree, rule)
    distinct = list(dict.fromkeys(values))
    if not distinct:
        raise SelectorError(f"{rule.selector!r} matches nothing")
    if len(distinct) > 1:
        shown = ", ".join(repr(v[:40]) for v in distinct[:3])
        raise SelectorError(f"{rule.selector!r} matches {len(distinct)} different values: {shown}")
    return distinct[0]


def apply_pattern(tree: etree._Element, spec: PatternSpec) -> PatternMatch:
    """Evaluate a pattern on a parsed page. Never raises for a bad selector: see `errors`."""
    match = PatternMatch()
    for name in ("price", "currency", "availability", "title", "image"):
        rule: FieldRule | None = getattr(spec, name)
        if rule is None:
            continue
        try:
            match.raw[name] = apply_rule(tree, rule)
        except SelectorError as exc:
            match.errors[name] = str(exc)
    raw_price = match.raw.get("price")
    if raw_price is not None:
        match.price = parse_amount(raw_price)
        if match.price is None:
            match.errors["price"] = f"{raw_price[:60]!r} does not read as a price"
        elif _looks_like_range(raw_price):
            match.price = None
            match.errors["price"] = f"{raw_price[:60]!r} is a price range"
    match.currency = (
        parse_currency(match.raw.get("currency"))
        or _currency_in(raw_price)
        or parse_currency(spec.default_currency)
    )
    if "availability" in match.raw:
        match.availability = parse_availability(match.raw["availability"]) or _availability_words(
            match.raw["availability"]
        )
    match.title = match.raw.get("title")
    match.image = match.raw.get("image")
    return match


_RANGE = re.compile(r"\d\s*(?:-|–|—|to|bis|a|à)\s*(?:[^\d\s]{0,4}\s*)\d")


def _looks_like_range(text: str) -> bool:
    from .parsing import find_amounts  # local import: parsing is the lower layer

    return len(find_amounts(text)) > 1 and bool(_RANGE.search(text))


def _currency_in(text: str | None) -> str | None:
    if not text:
        return None
    from .parsing import currency_in_text

    return currency_in_text(text)


def _availability_words(text: str) -> Availability | None:
    from .parsing import availability_from_text

    return availability_from_text(text)

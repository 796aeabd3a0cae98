"""A scripted stand-in for an LLM, served as an OpenAI-compatible API on 127.0.0.1.

It is not a model and does not pretend to be one (it answers as model "scripted-heuristic").
It answers the way a plausible but imperfect model might, from nothing but the trimmed page the
agent sent it, never from a truth file: it ranks the elements whose text looks like a price
(itemprop="price" first, then the ones nearest after the page's `h1`, markup named "price"
first among near ones; prices in recommendation-like containers and crossed-out "was" prices
last) and answers with a CSS selector for the first. Each
time the agent sends back problems it answers with the next candidate; when it has none left it
answers `"price": null`. Same page, same answers: it is deterministic.

The HTTP side (request parsing, response shape, `usage` of prompt characters / 4 and answer
characters / 4 tokens) is the tests' `FakeLLM`; only the answer is computed here.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from pathlib import Path

import lxml.etree
import lxml.html

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.tracker.fake_llm import FakeLLM, answer  # noqa: E402

MODEL_NAME = "scripted-heuristic"
_MARK = r"(?:[$€£¥₹]|R\$|US\$|C\$|A\$|\b(?:USD|EUR|GBP|CHF|CAD|AUD|PLN|SEK|NOK|DKK|AED|BRL|INR|JPY|zł|kr|Kč|Ft|lei|Rs\.?)\b)"
_NUMBER = r"\d{1,3}(?:[.,'\u00a0\u202f ]?\d{3})*(?:[.,]\d{1,2})?(?:[.,]-)?"
# An element's whole text is a price: a currency mark next to a number, a few words at most.
PRICE_TEXT = re.compile(
    rf"^(?:[A-Za-zÀ-ÿ]+:?\s){{0,2}}(?:{_MARK}\s?{_NUMBER}|{_NUMBER}\s?{_MARK})(?:\s?[*A-Za-z]{{0,6}})?$",
    re.IGNORECASE,
)
_WAS = re.compile(r"(^|[\s_-])(was|old|strike|crossed|compare|before|rrp|msrp|original|list)([\s_-]|$)", re.I)
# Containers a model reads as "other products": their prices are not this product's.
_OTHERS = re.compile(r"rec(s|ommend)|related|similar|carousel|upsell|cross-?sell|also-|sponsor|bundle", re.I)
_SAFE_NAME = re.compile(r"^[A-Za-z_][\w-]{0,40}$")
# Names a model is told not to use: hashes and framework-generated classes.
_GENERATED = re.compile(r"\d{3,}|^[a-z]{1,3}-[0-9a-z]{5,}$|^(css|sc|jsx|emotion)-|__[A-Za-z0-9]{5,}$")
MAX_CANDIDATES = 8


def _classes(el: lxml.html.HtmlElement) -> list[str]:
    return [c for c in (el.get("class") or "").split() if _SAFE_NAME.match(c) and not _GENERATED.search(c)]


def _own_selector(el: lxml.html.HtmlElement) -> str | None:
    """What a model writes for one element: #id, [itemprop], tag.class; None if nothing names it."""
    element_id = el.get("id") or ""
    if _SAFE_NAME.match(element_id) and not _GENERATED.search(element_id):
        return f"#{element_id}"
    if (el.get("itemprop") or "").lower() == "price":
        return f'{el.tag}[itemprop="price"]'
    classes = _classes(el)
    if classes:
        return el.tag + "".join(f".{c}" for c in classes[:2])
    return None


def _selector_for(el: lxml.html.HtmlElement, tree: lxml.html.HtmlElement) -> str | None:
    """The element's own name, narrowed by its nearest named ancestor when that name is not
    unique on the page the model saw. Never an nth-child chain."""
    own = _own_selector(el)
    if own is None:
        own_tag = el.tag
        parent = el.getparent()
        while parent is not None and _own_selector(parent) is None:
            parent = parent.getparent()
        if parent is None or parent.tag in ("body", "html"):
            return None
        return f"{_own_selector(parent)} {own_tag}"
    if own.startswith("#") or len(tree.cssselect(own)) <= 1:
        return own
    ancestor = el.getparent()
    while ancestor is not None and ancestor.tag not in ("body", "html"):
        named = _own_selector(ancestor)
        if named is not None:
            return f"{named} {own}"
        ancestor = ancestor.getparent()
    return own  # not unique; the validator will say so


def _crossed_out(el: lxml.html.HtmlElement) -> bool:
    current = el
    for _ in range(3):
        if current is None:
            return False
        if current.tag in ("del", "s", "strike"):
            return True
        if _WAS.search(f"{current.get('class') or ''} {current.get('id') or ''}"):
            return True
        current = current.getparent()
    return False


def _among_others(el: lxml.html.HtmlElement) -> bool:
    current = el
    for _ in range(8):
        if current is None:
            return False
        if _OTHERS.search(f"{current.get('class') or ''} {current.get('id') or ''}"):
            return True
        current = current.getparent()
    return False


def candidates(trimmed: str) -> list[tuple[str, str | None]]:
    """(selector, attribute) for the price, best guess first, from the trimmed page alone."""
    try:
        tree = lxml.html.fromstring(trimmed or "<div></div>")
    except (lxml.etree.ParserError, ValueError):
        return []
    elements = [el for el in tree.iter() if isinstance(el.tag, str)]
    position = {el: i for i, el in enumerate(elements)}
    h1 = next((el for el in elements if el.tag == "h1"), None)
    anchor = position[h1] if h1 is not None else 0
    scored: list[tuple[tuple, str, str | None]] = []
    for el in elements:
        itemprop = (el.get("itemprop") or "").lower() == "price"
        if itemprop and el.get("content"):
            text, attribute = el.get("content") or "", "content"
            looks = bool(re.fullmatch(r"\s*\d[\d.,]*\s*", text))
        else:
            text, attribute = " ".join(el.text_content().split()), None
            looks = len(text) <= 40 and bool(PRICE_TEXT.match(text))
            # the innermost element holding the whole price
            looks = looks and not any(" ".join(c.text_content().split()) == text for c in el if isinstance(c.tag, str))
        if not looks:
            continue
        named_price = "price" in f"{el.get('class') or ''} {el.get('id') or ''}".lower()
        after_h1 = position[el] >= anchor
        distance = abs(position[el] - anchor)
        rank = (
            _crossed_out(el),  # a model knows "was" prices are wrong, mostly
            _among_others(el),
            not itemprop,
            not after_h1,
            distance // 25,  # near the title first; among near ones, markup named "price"
            not named_price,
            distance,
        )
        selector = _selector_for(el, tree)
        if selector is not None:
            scored.append((rank, selector, attribute))
    seen: set[tuple[str, str | None]] = set()
    ordered: list[tuple[str, str | None]] = []
    for _rank, selector, attribute in sorted(scored, key=lambda item: item[0]):
        if (selector, attribute) not in seen:
            seen.add((selector, attribute))
            ordered.append((selector, attribute))
    return ordered[:MAX_CANDIDATES]


_PAGE_MARK = "Trimmed HTML of the product page:\n"


def model_answer(messages: list[dict]) -> str:
    """The scripted model's answer to one chat: round n gets the n-th candidate."""
    page = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
    trimmed = page.split(_PAGE_MARK, 1)[1] if _PAGE_MARK in page else page
    round_no = sum(1 for m in messages if m.get("role") == "assistant")
    found = candidates(trimmed)
    h1_count = trimmed.count("<h1")
    if round_no >= len(found):
        return json.dumps(answer(None) | {"default_currency": None})
    selector, attribute = found[round_no]
    reply = answer(selector, attribute=attribute, title="h1" if h1_count == 1 else None)
    reply["default_currency"] = None
    return json.dumps(reply)


class ScriptedLLM(FakeLLM):
    """FakeLLM whose every answer is `model_answer(messages)` instead of a fixed script."""

    def __init__(self) -> None:
        super().__init__([{"content": "{}"}])
        self._turn = threading.Lock()

    def _answer(self, body: dict) -> tuple[int, dict, float]:
        content = model_answer(body.get("messages") or [])
        with self._turn:  # one script slot: answer one request at a time
            self.script = [{"content": content}]
            status, payload, delay = super()._answer(body)
        payload["model"] = MODEL_NAME
        return status, payload, delay

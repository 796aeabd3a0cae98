"""How much a price-like amount on a page looks like the product's own price: named rules,
applied in order, each adding points or ruling the amount out (the first rule that rules it
out ends its scoring). Pure: a candidate, the scanned page and the words around it in.

The rules read the page through dom.py and the shop wording through wording.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from lxml import etree

from .blocks import Cards
from .dom import Page, ancestors
from .parsing import _CUR_SIGN, _CUR_WORD, find_amounts
from .wording import (
    AFTER_BAD,
    AFTER_GOOD,
    BEFORE_BAD,
    BEFORE_GOOD,
    EMPHASIS_WORDS,
    FAR_LABELS,
    FROM_AFTER,
    GROSS_WORDS,
    LOWER_BOUND,
    NEG_WORDS,
    OTHER_OFFER_WORDS,
    POS_WORDS,
    SOFT_NEG_WORDS,
    Kind,
    amount_kind,
)


@dataclass
class Candidate:
    element: etree._Element
    amount: Decimal
    currency: str | None
    symbol: str | None
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    rejected: str | None = None
    text: str = ""
    order: int = 0
    in_zone: bool = False
    tokens_in_element: int = 1


# "$17.01 (61%)" is what you save, not what you pay.
_PERCENT_AFTER = re.compile(r"^\s*\(\s*\d{1,2}(?:[.,]\d)?\s?%\s*\)")
_PERCENT_BEFORE = re.compile(r"\(\s*\d{1,2}(?:[.,]\d)?\s?%\s*\)\s*$")
_WORD = re.compile(r"\w")
_DIGIT = re.compile(r"\d")
_WORD_END = re.compile(r"\w\b")
_PROSE_WORD = re.compile(r"[^\W\d]{2,}")
_PRICE_KINDS = (Kind.PRICE, Kind.FROM)
# An amount with its currency, wherever it starts (texts joined from elements glue words to it).
_AMOUNT_WITH_CURRENCY = re.compile(rf"(?:{_CUR_WORD}|{_CUR_SIGN})\s?\d(?:[\d.,\s]*\d)?|\d\s?(?:{_CUR_WORD}|{_CUR_SIGN})")
RANGE_JOIN = re.compile(r"^\s*(?:-|–|—|to|bis|a|à)\s*$", re.IGNORECASE)
# A tilde after an amount ("30,000원~", "1,280円～") is a "from" price unless another amount follows;
# "399,99 € -10%" is a price and its discount, not a range.
RANGE_NEXT = re.compile(r"^\s*(?:-|–|—|~|～|〜|to|bis)\s*\S{0,4}\s?\d(?![\d.,]*\s?%)", re.IGNORECASE)
RANGE_BEFORE = re.compile(r"(?:-|–|—|~|～|〜|\bto|\bbis)\s*$")
_NAMING_TAGS = ("strong", "b", "h2", "h3", "h1")
_PRICE_STEMS = ("price", "preis", "preco", "precio", "prix", "amount")
# Points for the distance (in elements, reading order) from the product title: (from, to, points).
_TITLE_DISTANCE_POINTS = ((0, 80, 3.0), (81, 250, 2.0), (251, 700, 1.0), (-60, -1, 1.0))
_FAR_BEFORE_TITLE = -1.5  # more than 60 elements before the title: a header or another product


def _rule_not_struck(c: Candidate, page: Page, before: str, after: str) -> None:
    """A crossed-out amount is a "was" price; an amount in another product's block is marked."""
    if id(c.element) in page.struck:
        c.rejected = "struck through"
    elif id(c.element) in page.zone:
        c.in_zone = True
    else:
        if page.cards is None:
            page.cards = Cards(page)
        if page.cards.holds(c.element):
            c.in_zone = True
            c.reasons.append("other product")


def _rule_names(c: Candidate, page: Page, before: str, after: str) -> None:
    """Names (class, id, itemprop) of the element and its close ancestors."""
    for depth, node in enumerate(ancestors(c.element, 3)):
        words = page.words_of(node)
        if words and _name_points(c, node, words, depth):
            return


def _name_points(c: Candidate, node: etree._Element, words: set[str], depth: int) -> bool:
    """Points for one element's names; True when they rule the amount out."""
    if node.get("itemprop") in ("price", "lowPrice"):
        c.score += 6 if depth <= 1 else 3
        c.reasons.append("itemprop=price")
    bad = words & NEG_WORDS
    if "tax" in bad and words & GROSS_WORDS:
        bad = bad - {"tax"}  # "price-including-tax" is what the shopper pays
    if bad and depth <= 2:
        c.rejected = f"named {sorted(bad)[0]!r}"
        return True
    if words & SOFT_NEG_WORDS and depth <= 2:
        c.score -= 1.5
    if any(stem in word for word in words for stem in _PRICE_STEMS):
        c.score += 3 if depth <= 1 else 1.5
        c.reasons.append("price-named")
    if words & POS_WORDS:
        c.score += 1.5
    if depth <= 1 and words & EMPHASIS_WORDS:
        c.score += 0.5
    if node.tag in _NAMING_TAGS and depth <= 1:
        c.score += 0.5
    return False


def _rule_wording(c: Candidate, page: Page, before: str, after: str) -> None:
    """Shop wording right around the amount that makes it another kind of amount."""
    if _labelled_other(before):
        c.rejected = _named("label", before.strip()[-20:], amount_kind(before=before))
    elif _PERCENT_AFTER.match(after) or _PERCENT_BEFORE.search(before):
        c.rejected = "a saving with its percentage"
    elif AFTER_BAD.search(after):
        c.rejected = _named("followed by", after.strip()[:20], amount_kind(before="", after=after))


def _rule_range(c: Candidate, page: Page, before: str, after: str) -> None:
    """One end of a printed range ("$12.97 - $24.99")."""
    if (
        RANGE_JOIN.match(after[:4] or "")
        or RANGE_NEXT.match(after)
        or (RANGE_BEFORE.search(before) and find_amounts(before[-20:], limit=1))
    ):
        c.rejected = "price range"
        c.reasons.append("range")


def _rule_labels(c: Candidate, page: Page, before: str, after: str) -> None:
    """Labels of the price ("Now", "Preis", "inkl. MwSt."), "from" wording, add-on prices."""
    if LOWER_BOUND.search(before) or FROM_AFTER.match(after):
        c.reasons.append("from")
    if BEFORE_GOOD.search(before) or AFTER_GOOD.match(after) or _label_cell(c):
        c.score += 1.5
        c.reasons.append("labelled")
    if before.rstrip().endswith("+"):
        c.rejected = "add-on price"


_VALUE_CELLS = ("td", "dd")
_LABEL_CELLS = ("td", "th", "dt")


def _label_cell(c: Candidate) -> bool:
    """A price label in the cell before the amount's cell: a row of a key/value table
    ("UNIT PRICE: | Custom-Made! $180.00", `<dt>Price</dt><dd>...`), where the label names the
    whole value cell even when a note stands between them. The value cell holds one amount."""
    cell = next((node for node in ancestors(c.element, 2) if node.tag in _VALUE_CELLS), None)
    if cell is None or c.tokens_in_element > 1:
        return False
    label = cell.getprevious()
    while label is not None and not isinstance(label.tag, str):
        label = label.getprevious()
    if label is None or label.tag not in _LABEL_CELLS:
        return False
    text = " ".join(label.text_content().split())
    if not text or len(text) > 40 or _DIGIT.search(text):
        return False
    label_end = BEFORE_GOOD.search(text)
    if label_end is None or amount_kind(before=text) != Kind.PRICE:
        return False
    # No words before the price label may make it another kind ("Shipping & handling price:",
    # "Monthly price:"): each word end of the rest is tried as the end of a label.
    rest = text[:label_end.start()]
    for word in _WORD_END.finditer(rest):
        if amount_kind(before=rest[:word.end()]) not in (None, Kind.PRICE):
            return False
    return len(find_amounts(" ".join(cell.itertext())[:300], limit=2)) == 1


def _rule_near_title(c: Candidate, page: Page, before: str, after: str) -> None:
    """Nearness to the product title, in reading order and in the tree."""
    if page.anchor is None:
        return
    distance = c.order - page.order.get(id(page.anchor), 0)
    points = next((p for low, high, p in _TITLE_DISTANCE_POINTS if low <= distance <= high), None)
    c.score += points if points is not None else (_FAR_BEFORE_TITLE if distance < -60 else 0)
    shared = _shared_depth(c.element, page)
    if shared is not None:
        c.score += 2 if shared <= 3 else 1 if shared <= 5 else 0


def _rule_surroundings(c: Candidate, page: Page, before: str, after: str) -> None:
    """Where the amount stands: another product's block, a link, other sellers' offers."""
    if c.in_zone:
        c.score -= 6
    if next(c.element.iterancestors("a"), None) is not None:
        c.score -= 2  # links lead to other products and offers
        c.reasons.append("link")
    # Deeper than the names read above: a block named for other sellers' offers.
    if any(page.words_of(node) & OTHER_OFFER_WORDS for node in islice(c.element.iterancestors(), 3, 10)):
        c.score -= 3
        c.reasons.append("other offer")


def _rule_text(c: Candidate, page: Page, before: str, after: str) -> None:
    """The element's own text: a currency, several amounts, a sentence."""
    if c.currency:
        c.score += 0.5
    if c.tokens_in_element > 1:
        c.score -= 1
    # A price inside a sentence ("Earn $25 for every $250 spent") is rarely the product's.
    if len(_PROSE_WORD.findall(c.text)) > 4 and "price-named" not in c.reasons:
        c.score -= 3
        c.reasons.append("prose")


Rule = Callable[[Candidate, Page, str, str], None]
RULES: tuple[Rule, ...] = (
    _rule_not_struck,
    _rule_names,
    _rule_wording,
    _rule_range,
    _rule_labels,
    _rule_near_title,
    _rule_surroundings,
    _rule_text,
)


def candidate_score(c: Candidate, page: Page, before: str, after: str) -> None:
    """Apply the rules in order to a candidate with the text just `before` and `after` it."""
    for rule in RULES:
        rule(c, page, before, after)
        if c.rejected is not None:
            return


def _labelled_other(before: str) -> bool:
    """Whether the words just before an amount make it something other than the price. Words
    that are a trailer of the amount printed right before ("19,99 € netto 23,79 €", "$5
    shipping $49") belong to that amount, not to this one."""
    if BEFORE_BAD.search(before) is None:
        if FAR_LABELS.search(before) is None:
            return False
    elif amount_kind(before=before) in _PRICE_KINDS:
        return False  # "a partir de": a longer label than the "de" it ends with
    previous = None
    for found in _AMOUNT_WITH_CURRENCY.finditer(before):
        previous = found
    if previous is None:
        return True
    rest = before[previous.end():]
    trailer = AFTER_BAD.match(rest)
    return trailer is None or _WORD.search(rest, trailer.end()) is not None


def _named(where: str, text: str, kind) -> str:
    """A rejection reason that says which kind of amount the wording makes it."""
    return f"{where} {text!r}" + (f" ({kind} wording)" if kind else "")


def _shared_depth(el: etree._Element, page: Page) -> int | None:
    """How many levels above the title the nearest common ancestor of title and price is."""
    above_title = {id(a): i for i, a in enumerate(page.anchor_path)}
    for node in el.iterancestors():
        if id(node) in above_title:
            return above_title[id(node)] + 1
    return None

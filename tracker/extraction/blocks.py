"""Blocks around an amount that make it another offer than the product's own price, read from
the page's structure rather than its class names:

- another product's card: a list of look-alike blocks (same tag, same classes), each with its
  own price and a picture-and-name link to another page ("Recommended Products" over `<li>`
  cards, a catalogue grid under the product), whatever the shop calls them;
- a quantity tier table: amounts paired with quantity ranges ("1 - 14 | 15 - 49 | 100+"), where
  what the shopper pays depends on how many they buy.
"""

from __future__ import annotations

import re

from lxml import etree

from .dom import Page, bounded_text
from .parsing import AmountToken, find_amounts

# A product card: at least this many look-alike siblings, counting itself...
CARD_SIBLINGS = 3
# ... at least this many of them with a price of their own.
CARD_PRICED = 2
# How far above the amount a card may start (amount, its price blocks, the card).
CARD_DEPTH = 8
# A product's name on a link or its image: at least two words and this many characters.
_PRODUCT_NAME_CHARS = 10
# A card is small: a name, a price, a rating. A block with more text (a section of the product
# page with its description and options) is not one, even among look-alike sections.
_CARD_TEXT_LIMIT = 1000

# A quantity or a quantity range without a currency: "1 - 14", "15-49", "100+", "10 to 24".
_QUANTITY = re.compile(
    r"(?<![\w.,])\d{1,5}\s*(?:(?:-|–|—|~|to|bis)\s*\d{1,5}|\+)(?![\w.,])", re.IGNORECASE
)
_TIER_TEXT_LIMIT = 400
_TIER_DEPTH = 4


def _signature(el: etree._Element) -> tuple[str, str]:
    return el.tag, el.get("class") or ""


def _links_a_product(node: etree._Element) -> bool:
    """Whether the block links to another page with an image and a name like a product's (the
    link's text or the image's alternative text): the picture-and-name link of a card in a list
    of products, which a buy box rarely has."""
    pictured: set[str] = set()
    named: set[str] = set()
    for link in node.iter("a"):
        href = (link.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:")):
            continue
        names = [link.text_content()]
        for img in link.iter("img"):
            pictured.add(href)
            names.append(img.get("alt") or "")
        if any(len(name) >= _PRODUCT_NAME_CHARS and " " in name for name in (" ".join(n.split()) for n in names)):
            named.add(href)
        if pictured & named:
            return True
    return False


class Cards:
    """Which blocks of one page are other products' cards, worked out once per block (the
    candidates of a page share their ancestors, and the cards of a list share their parent)."""

    def __init__(self, page: Page) -> None:
        self._page = page  # its lxml proxies stay alive, so the ids below stay theirs
        self.above_title = {id(a) for a in page.anchor_path}
        if page.anchor is not None:
            self.above_title.add(id(page.anchor))
        self._cards: dict[int, bool] = {}
        self._groups: dict[int, dict[tuple[str, str], list[etree._Element]]] = {}
        self._priced: dict[int, bool] = {}
        self._keep: list[etree._Element] = []  # lxml proxies must stay alive for their id() to stay unique

    def holds(self, el: etree._Element) -> bool:
        """True when the amount sits in one of several look-alike blocks that carry a price and
        a picture-and-name link, below the product's title block: a list of other products. The block holding the product title is never such a card."""
        node = el
        for _ in range(CARD_DEPTH):
            parent = node.getparent()
            if parent is None or id(node) in self.above_title:
                return False
            verdict = self._cards.get(id(node))
            if verdict is None:
                verdict = self._cards[id(node)] = self._is_card(node, parent)
            if verdict:
                return True
            node = parent
        return False

    def _is_card(self, node: etree._Element, parent: etree._Element) -> bool:
        groups = self._groups.get(id(parent))
        if groups is None:
            # The parent's children by tag and classes, once for all of them.
            self._keep.append(parent)
            groups = self._groups[id(parent)] = {}
            for child in parent:
                if isinstance(child.tag, str):
                    groups.setdefault(_signature(child), []).append(child)
        siblings = groups.get(_signature(node), ())
        if len(siblings) < CARD_SIBLINGS or any(id(s) in self.above_title for s in siblings):
            return False
        if not self._is_priced(node) or not _links_a_product(node):
            return False
        priced = 0
        for sibling in siblings:
            if self._is_priced(sibling):
                priced += 1
                if priced >= CARD_PRICED:
                    return True
        return False

    def _is_priced(self, node: etree._Element) -> bool:
        """Whether the block is small and prints an amount."""
        verdict = self._priced.get(id(node))
        if verdict is None:
            text = bounded_text(node, _CARD_TEXT_LIMIT, spaced=True)
            verdict = self._priced[id(node)] = bool(text) and bool(find_amounts(text, limit=1))
        return verdict


def _apart(tokens: list[AmountToken]) -> list[AmountToken]:
    """Amounts that do not overlap: in "4,00 € 10 bis 49" the sign belongs to the amount before
    it, so "€ 10" is not read again as an amount."""
    kept: list[AmountToken] = []
    for token in tokens:
        if not kept or token.start >= kept[-1].end:
            kept.append(token)
    return kept


def quantity_tiers(el: etree._Element) -> bool:
    """True when the amount stands in a small block (a table, a row, a list) that pairs several
    amounts with at least as many quantity ranges: a price per quantity tier, not one price."""
    node = el
    for _ in range(_TIER_DEPTH):
        text = bounded_text(node, _TIER_TEXT_LIMIT, spaced=True)
        if text is None:
            return False
        amounts = _apart(find_amounts(text, limit=8))
        distinct = len({a.amount for a in amounts})
        if distinct >= 2:
            rest = text
            for token in reversed(amounts):
                rest = rest[:token.start] + " " + rest[token.end:]
            if len(_QUANTITY.findall(rest)) >= distinct:
                return True
        node = node.getparent()
        if node is None:
            return False
    return False

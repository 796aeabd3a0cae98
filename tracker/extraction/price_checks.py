"""Whether an amount the page prints is the product's one current price: not one end of a
range, not a "From" price over options that print their own, not a price crossed out wherever
the page shows it. Pure: an lxml tree and an amount in, an answer out."""

from __future__ import annotations

import re
from decimal import Decimal

from lxml import etree

from .dom import STRIKE_STYLE, STRUCK_TAGS, ancestors, price_text, words_of
from .heuristics import lists_option_prices
from .parsing import find_amounts
from .wording import FROM_AFTER, LOWER_BOUND

# descendant:: from body, not //: no node-set of every node is built first (a fifth faster).
_TEXT_WITH = etree.XPath("//body/descendant::text()[contains(., $needle)]", smart_strings=True)
_STRONG_NEG = frozenset({"old", "was", "list", "listprice", "compare", "compareat", "rrp", "msrp", "strike",
                         "strikethrough", "strikeout", "crossed", "crossedout", "original", "uvp",
                         "oldprice", "wasprice", "strikeprice", "linethrough", "nonsale", "prev", "previous"})


_RANGE_AFTER = re.compile(r"^\s*(?:-|–|—|to\b|bis\b)")
_RANGE_BEFORE = re.compile(r"(?:-|–|—|\bto|\bbis)\s*$")


def not_one_price(element: etree._Element, price: Decimal) -> str | None:
    """Why the amount an element shows is not the product's one price, or None: one end of a
    price range ("$12.97 - $24.99"), or a "From" price over options that print their own.
    Judged on the element's text and, when short, its parent's (ranges are often split)."""
    for scope in (element, element.getparent()):
        if scope is None or not isinstance(scope.tag, str):
            continue
        text = " ".join(scope.text_content().split())
        if len(text) > 200:
            break
        amounts = find_amounts(text, limit=6)
        for index, token in enumerate(amounts):
            if token.amount != price:
                continue
            before = text[max(0, token.start - 25):token.start]
            if (index + 1 < len(amounts) and _RANGE_AFTER.match(text[token.end:amounts[index + 1].start])) or (
                index > 0 and _RANGE_BEFORE.search(text[amounts[index - 1].end:token.start])
            ):
                return "one end of a price range"
            after = text[token.end:token.end + 25]
            if (LOWER_BOUND.search(before) or FROM_AFTER.match(after)) and lists_option_prices(element):
                return "a 'from' price, the lowest of several options"
    return None


def price_struck_everywhere(tree: etree._Element, price: Decimal, *, shown) -> bool:
    """True when every place the page prints this amount is a crossed-out or "was"-named
    element (structured data carrying the regular price of a product on sale).
    `shown(text, price)` tells whether a text prints the amount."""
    whole = f"{price:.2f}".split(".")[0]
    needle = whole[-3:]
    found = 0
    for text in _TEXT_WITH(tree, needle=needle)[:40]:
        owner = text.getparent()
        if owner is None:
            continue
        if text.is_tail:
            owner = owner.getparent()
            if owner is None:
                continue
        block = price_text(owner, 200)
        if shown(block, price) == "absent":
            continue
        found += 1
        struck = False
        for node in ancestors(owner, 3):
            if not isinstance(node.tag, str):
                continue
            style = node.get("style") or ""
            if node.tag.lower() in STRUCK_TAGS or ("line" in style and STRIKE_STYLE.search(style)):
                struck = True
                break
            if words_of(node) & _STRONG_NEG:
                struck = True
                break
        if not struck:
            return False
    return found > 0

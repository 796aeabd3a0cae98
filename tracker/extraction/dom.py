"""Reading a page's DOM the way a shopper sees it: what is hidden, what is crossed out, which
blocks belong to other products (recommendations, headers, carousels), where the product
title is. Shared by the price heuristics; the stock wording around the title is read in
availability.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

MAX_ELEMENTS = 60_000

MAX_TEXT_NODES = 20_000

_SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "head",
        "select",
        "option",
        "textarea",
        "iframe",
        "title",
        "meta",
        "link",
    }
)

_ZONE_TAGS = frozenset({"header", "footer", "nav", "aside"})

STRUCK_TAGS = frozenset({"del", "s", "strike"})

_HIDDEN_CLASSES = frozenset(
    {
        "hidden",
        "hide",
        "d-none",
        "displaynone",
        "display-none",
        "ng-hide",
        "a-hidden",
        "is-hidden",
        "invisible",
        "visuallyhidden-off",
        "u-hidden",
        "js-hidden",
        "hidden-xs-up",
        "collapse",
    }
)

_HIDDEN_STYLE = re.compile(r"(?<![-\w])(?:display\s*:\s*none|visibility\s*:\s*hidden)", re.IGNORECASE)

STRIKE_STYLE = re.compile(r"line-through", re.IGNORECASE)

# Containers whose prices belong to other products or other offers.
_ZONE_WORDS = re.compile(
    r"related|recommend|similar|upsell|up-sell|crosssell|cross-sell|alsobought|also-bought|"
    r"also_bought|alsoviewed|also-viewed|also-like|youmay|you-may|you_may|recently|carousel|"
    r"frequently|bought-together|boughttogether|fbt|sponsor|breadcrumb|review|newsletter|"
    r"accessor|warrant|protection-plan|sidebar|suggest|complete-the-look|shop-the-look|"
    r"completethelook|minicart|mini-cart|cart-drawer|cartdrawer|megamenu|mega-menu|"
    r"p13n|sims-|rvi-|comparison|bulk|compare-table|other-sellers|othersellers|more-buying|mbc|bundle|compare-products|"
    r"wishlist|quickview|quick-view|product-list|productlist|product-grid|productgrid|"
    r"product-tile|producttile|tile|slick|swiper|owl-|top-?seller|bestseller|cookie|modal|"
    r"(?<!has-)(?<!js-)(?:popover|tooltip)(?![-_]?(?:trigger|toggle|link|icon|btn|button))",
    re.IGNORECASE,
)

# Every alternative of _ZONE_WORDS holds one of these: a class or id without any (most of
# them) is answered by one search for plain words instead of the regex (1 us against 20).
_ZONE_HINTS = (
    "related", "recommend", "similar", "upsell", "up-sell", "crosssell", "cross-sell", "also", "youmay",
    "you-may", "you_may", "recently", "carousel", "frequently", "bought", "fbt", "sponsor", "breadcrumb",
    "review", "newsletter", "accessor", "warrant", "protection-plan", "sidebar", "suggest", "look",
    "cart", "megamenu", "mega-menu", "p13n", "sims-", "rvi-", "comparison", "bulk", "compare", "seller",
    "more-buying", "mbc", "bundle", "wishlist", "quickview", "quick-view", "product", "tile", "slick",
    "swiper", "owl-", "cookie", "modal", "popover", "tooltip",
)
_ZONE_HINT = re.compile("|".join(re.escape(hint) for hint in _ZONE_HINTS))


def names_a_zone(text: str) -> bool:
    """Whether a class or id names a container of other products or offers (_ZONE_WORDS)."""
    return _ZONE_HINT.search(text.lower()) is not None and _ZONE_WORDS.search(text) is not None


_WORD_SPLIT = re.compile(r"[^a-z0-9]+")

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def words_of(el: etree._Element) -> set[str]:
    raw = f"{el.get('class') or ''} {el.get('id') or ''} {el.get('itemprop') or ''} {el.get('data-testid') or ''}"
    if not raw.strip():
        return set()
    raw = _CAMEL.sub("-", raw).lower()
    parts = {w for w in _WORD_SPLIT.split(raw) if w}
    # Joined forms too: "old-price" -> "oldprice".
    for token in raw.split():
        parts.add(re.sub(r"[^a-z0-9]", "", token))
    return parts


def attr_text(el: etree._Element) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower()


def is_hidden(el: etree._Element) -> bool:
    if el.get("hidden") is not None or (el.get("aria-hidden") == "true" and not _spoken_by_parent(el)):
        return True
    style = el.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    if el.get("type") == "hidden":
        return True
    classes = el.get("class")
    if classes:
        return any(c in _HIDDEN_CLASSES for c in classes.lower().split())
    return False


@dataclass
class Page:
    body: etree._Element
    order: dict[int, int]
    hidden: set[int]
    zone: set[int]
    struck: set[int]
    anchor: etree._Element | None
    anchor_path: list[etree._Element]
    visible_text_nodes: list[tuple[etree._Element, str, bool]]  # (owner, text, is_tail)
    holds_hidden: set[int] = field(default_factory=set)  # elements with a hidden element inside
    _words: dict[int, set[str]] = field(default_factory=dict)
    cards: object | None = None  # blocks.Cards, made when the first candidate asks

    def words_of(self, el: etree._Element) -> set[str]:
        """`words_of`, remembered: candidates share their ancestors."""
        words = self._words.get(id(el))
        if words is None:
            words = self._words[id(el)] = words_of(el)
        return words
    # lxml proxies must stay alive for their id() to stay unique.
    keep: list[etree._Element] = field(default_factory=list)


def title_words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w{3,}", text.lower())}


def _find_anchor(body: etree._Element, doc_title: str, hidden: set[int], zone: set[int]):
    best, best_score = None, -1.0
    page_words = title_words(doc_title)
    for el in body.iter("h1"):
        if id(el) in hidden or id(el) in zone:
            continue
        text = " ".join(el.text_content().split())
        if len(text) < 3:
            continue
        words = title_words(text)
        overlap = len(words & page_words) / (len(words) or 1) if page_words else 0.5
        if overlap > best_score:
            best, best_score = el, overlap
    if best is None:
        for el in body.iter():
            if el.get("itemprop") == "name" and id(el) not in hidden and id(el) not in zone:
                return el
    return best


def _spoken_by_parent(el: etree._Element) -> bool:
    """Pieces of a price drawn for the eye and hidden from screen readers, which hear the
    parent's aria-label instead (`<span aria-label="$37.30">$<span aria-hidden="true">37</span>…`):
    visible. Elsewhere aria-hidden marks visual duplicates of screen-reader text, or slides
    of a carousel out of view ("Recommended products" over hidden tiles)."""
    parent = el.getparent()
    label = parent.get("aria-label") if parent is not None else None
    return bool(label) and len(label) <= 40 and any(ch.isdigit() for ch in label)


class _Walk:
    """One pass over the body in reading order, carrying what ancestors pass down (hidden, in
    another product's block, crossed out). Class and id verdicts are remembered: pages repeat
    the same class lists hundreds of times."""

    def __init__(self) -> None:
        self.order: dict[int, int] = {}
        self.hidden: set[int] = set()
        self.zone: set[int] = set()
        self.struck: set[int] = set()
        self.texts: list[tuple[etree._Element, str, bool]] = []
        self.holds_hidden: set[int] = set()
        self.keep: list[etree._Element] = []  # lxml proxies must stay alive for their id() to stay unique
        self._zone_cache: dict[str, bool] = {}
        self._hidden_cache: dict[str, bool] = {}

    def run(self, body: etree._Element) -> None:
        stack: list[tuple[etree._Element, bool, bool, bool]] = [(body, False, False, False)]
        while stack and len(self.keep) < MAX_ELEMENTS:
            el, is_hidden, in_zone, is_struck = stack.pop()
            tag = el.tag
            if not isinstance(tag, str) or tag.lower() in _SKIP_TAGS:
                continue
            tag = tag.lower()
            self.keep.append(el)
            self.order[id(el)] = len(self.keep)
            attrib = el.attrib
            if attrib:  # most elements have none: no call at all for them
                is_hidden = is_hidden or self._hidden_here(el, attrib)
                in_zone = in_zone or self._zone_here(tag, attrib)
                is_struck = is_struck or _struck_here(tag, attrib.get("style"))
            else:
                in_zone = in_zone or tag in _ZONE_TAGS
                is_struck = is_struck or tag in STRUCK_TAGS
            if is_hidden:
                self._hide(el)
                continue  # nothing below a hidden element is read
            if in_zone:
                self.zone.add(id(el))
            if is_struck:
                self.struck.add(id(el))
            if tag == "button":
                continue  # seen for stock wording, never read for prices
            for child in reversed(self._read(el)):
                stack.append((child, False, in_zone, is_struck))

    def _hidden_here(self, el: etree._Element, attrib) -> bool:
        if "hidden" in attrib or attrib.get("type") == "hidden":
            return True
        if attrib.get("aria-hidden") == "true" and not _spoken_by_parent(el):
            return True
        style = attrib.get("style")
        if style and ("none" in style or "hidden" in style) and _HIDDEN_STYLE.search(style):
            return True
        classes = attrib.get("class")
        if not classes:
            return False
        flag = self._hidden_cache.get(classes)
        if flag is None:
            flag = self._hidden_cache[classes] = any(c in _HIDDEN_CLASSES for c in classes.lower().split())
        return flag

    def _zone_here(self, tag: str, attrib) -> bool:
        if tag in _ZONE_TAGS:
            return True
        classes = attrib.get("class")
        if classes:
            flag = self._zone_cache.get(classes)
            if flag is None:
                flag = self._zone_cache[classes] = names_a_zone(classes)
            if flag:
                return True
        ident = attrib.get("id")
        return bool(ident) and names_a_zone(ident)

    def _hide(self, el: etree._Element) -> None:
        self.hidden.add(id(el))
        for ancestor in el.iterancestors():
            if id(ancestor) in self.holds_hidden:
                break
            self.holds_hidden.add(id(ancestor))

    def _read(self, el: etree._Element) -> list[etree._Element]:
        """The element's own text and its children's tails (in that order); its children."""
        if el.text and len(self.texts) < MAX_TEXT_NODES:
            self.texts.append((el, el.text, False))
        children = list(el)
        for child in children:
            tail = child.tail
            if tail and len(self.texts) < MAX_TEXT_NODES and not tail.isspace():
                self.texts.append((el, tail, True))
        return children


def _struck_here(tag: str, style: str | None) -> bool:
    return tag in STRUCK_TAGS or bool(style and "line" in style and STRIKE_STYLE.search(style))


def _document_title(tree: etree._Element) -> str:
    """The page's <title>, and its og:title: what the product title on the page should match."""
    title_el = tree.find(".//title")
    title = title_el.text_content() if title_el is not None else ""
    for meta in tree.iter("meta"):
        if (meta.get("property") or "").lower() == "og:title":
            return f"{title} {meta.get('content') or ''}"
    return title


def page_scan(
    tree: etree._Element, *, root: etree._Element | None = None, anchor: etree._Element | None = None
) -> Page | None:
    """The page as a shopper sees it: reading order, hidden elements, other products' blocks,
    crossed-out amounts, visible texts, and the product title (`anchor`) the price is near."""
    body = root if root is not None else tree.find(".//body")
    if body is None:
        body = tree
    walk = _Walk()
    walk.run(body)
    if anchor is None:
        anchor = _find_anchor(body, _document_title(tree), walk.hidden, set())
    # A zone that holds the product title is the product's own container, not a zone.
    if anchor is not None and id(anchor) in walk.zone:
        _rezone(body, anchor, walk.hidden, walk.zone)
    anchor_path = list(anchor.iterancestors()) if anchor is not None else []
    return Page(body, walk.order, walk.hidden, walk.zone, walk.struck, anchor, anchor_path, walk.texts,
                keep=walk.keep, holds_hidden=walk.holds_hidden)


def _rezone(body, anchor, hidden, zone) -> None:
    """Recompute zones below the ancestors of the title: only genuine sub-blocks stay zones."""
    ancestors = {id(a) for a in anchor.iterancestors()} | {id(anchor)}
    zone.clear()
    stack = [(body, False)]
    steps = 0
    while stack and steps < MAX_ELEMENTS:
        steps += 1
        el, in_zone = stack.pop()
        if not isinstance(el.tag, str) or el.tag.lower() in _SKIP_TAGS:
            continue
        if not in_zone and id(el) not in ancestors:
            if el.tag.lower() in _ZONE_TAGS:
                in_zone = True
            else:
                attrs = attr_text(el)
                in_zone = bool(attrs.strip()) and names_a_zone(attrs)
        if in_zone:
            zone.add(id(el))
        if id(el) not in hidden:  # never read below a hidden element (nor kept: ids would be reused)
            stack.extend((child, in_zone) for child in el)


def bounded_text(el: etree._Element, limit: int, *, spaced: bool = False) -> str | None:
    """The element's text, or None as soon as it grows past `limit` characters. `spaced` puts a
    space between its elements' texts (table cells and list items must not run together:
    "1 - 9" and "4,00 €" are not "1 - 94,00 €")."""
    return _bounded(el.itertext(), limit, " " if spaced else "")


def visible_bounded_text(el: etree._Element, limit: int, page: Page) -> str | None:
    """`bounded_text` without the text of the page's hidden elements, so a hidden label
    ("RRP:" over an empty value) does not speak for a visible price."""
    text = bounded_text(el, limit)
    if text is None or id(el) not in page.holds_hidden:
        return text
    return _bounded(_visible_pieces(el, page.hidden), limit)


def _bounded(pieces: Iterator[str], limit: int, joint: str = "") -> str | None:
    parts: list[str] = []
    size = 0
    for piece in pieces:
        parts.append(piece)
        size += len(piece)
        if size > limit * 3:
            return None
    text = " ".join(joint.join(parts).split())
    return text if len(text) <= limit else None


def _visible_pieces(el: etree._Element, hidden: set[int]) -> Iterator[str]:
    """The element's texts and tails in reading order, hidden and script subtrees left out.
    Read lazily: a long flat list costs only what is read."""
    walk = etree.iterwalk(el, events=("start", "end", "comment"))
    for event, node in walk:
        if event == "start":
            if node is not el and (id(node) in hidden or node.tag.lower() in _SKIP_TAGS):
                walk.skip_subtree()
                continue
            piece = node.text
        elif node is el:
            continue
        else:
            piece = node.tail
        if piece:
            yield piece


def price_text(el: etree._Element, limit: int = 400) -> str:
    """Visible text of a small element in reading order (a child's tail after the child's own
    text); superscript cents (`$31<sup>57</sup>`) get their point."""
    if len(el) == 0:
        return " ".join((el.text or "").split())
    parts: list[str] = []
    size = steps = 0
    cut = False
    walk = etree.iterwalk(el, events=("start", "end", "comment"))
    for event, node in walk:
        if event == "start":
            if node is el:
                piece = node.text
            else:
                steps += 1
                if size > limit or steps > 60:
                    cut = True
                    break
                if node.tag.lower() in _SKIP_TAGS or is_hidden(node):
                    walk.skip_subtree()
                    continue
                piece = node.text
                if node.tag.lower() == "sup" and piece and parts and re.fullmatch(r"\s*\d{2}\s*", piece) and (
                    re.search(r"\d\s*$", parts[-1])
                ):
                    piece = "." + piece.strip()
        elif node is el:
            continue
        else:
            piece = node.tail
        if piece:
            parts.append(piece)
            size += len(piece)
    text = " ".join("".join(parts).split())
    # A cut-off text reads as longer than `limit`, so callers can tell it is not small.
    return text + " " * (limit + 1) if cut else text


def ancestors(el: etree._Element, depth: int) -> Iterator[etree._Element]:
    yield el
    for i, ancestor in enumerate(el.iterancestors()):
        if i >= depth:
            return
        yield ancestor

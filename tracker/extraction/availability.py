"""Stock from the page as a shopper sees it: the buy box beside the product title, its
out-of-stock wording, stock statements and cart buttons."""

from __future__ import annotations

import re

from lxml import etree

from .dom import Page, ancestors, bounded_text, is_hidden, page_scan, title_words
from .parsing import availability_from_text
from .result import Availability

_STORE_ONLY = re.compile(r"pick ?up|in[- ]store|nearby|near you|store stock|in your area", re.IGNORECASE)


def visible_availability(page: Page) -> Availability | None:
    """Stock from the visible buy box: out-of-stock wording, stock statements, cart buttons.

    Out-of-stock wording beats a cart button (shops often leave the button in place), but
    out-of-stock wording next to an explicit "in stock" statement is a contradiction: None.
    Store-pickup notes ("not available for pickup near you") say nothing about the shop.
    """
    if page.anchor is None:
        return None
    box = buy_box(page.anchor)
    out = in_text = buy = False
    for el in box.iter():
        if (
            not isinstance(el.tag, str)
            or id(el) not in page.order
            or id(el) in page.hidden
            or id(el) in page.zone
        ):
            continue
        tag = el.tag.lower()
        if tag == "button" or (tag == "input" and el.get("type") in ("submit", "button")):
            label = " ".join(el.text_content().split())[:80] or (el.get("value") or "")
            found = availability_from_text(label)
            if found == Availability.IN_STOCK and el.get("disabled") is None:
                buy = True
            elif found == Availability.OUT_OF_STOCK:
                out = True
            continue
        own = (el.text or "").strip()
        if not own or len(own) >= 200 or _STORE_ONLY.search(own):
            continue
        found = availability_from_text(own)
        if found == Availability.OUT_OF_STOCK:
            out = True
        elif found == Availability.IN_STOCK:
            if re.search(
                r"add to|warenkorb|carrinho|carrito|panier|koszyka|carrello|buy|comprar|kaufen", own, re.I
            ):
                buy = True
            else:
                in_text = True
    if out:
        return None if in_text else Availability.OUT_OF_STOCK
    if in_text or buy:
        return Availability.IN_STOCK
    return None


def buy_box(anchor: etree._Element) -> etree._Element:
    """The largest block around the title that still reads like one product (≤ 6000 chars)."""
    box = anchor
    for depth, ancestor in enumerate(anchor.iterancestors()):
        if depth >= 6 or ancestor.tag in ("body", "html") or bounded_text(ancestor, 6000) is None:
            break
        box = ancestor
    return box


def availability_near_title(tree: etree._Element) -> Availability | None:
    """Stock from the visible block around the product title, without scanning the page."""
    title_el = tree.find(".//title")
    doc_title = title_el.text_content() if title_el is not None else ""
    body = tree.find(".//body")
    if body is None:
        return None
    visible_h1 = [h for h in body.iter("h1") if not any(is_hidden(a) for a in ancestors(h, 30))][:20]
    if not visible_h1:
        return None
    words = title_words(doc_title)
    anchor = max(visible_h1, key=lambda h: len(title_words(h.text_content()) & words))
    box = buy_box(anchor)
    page = page_scan(tree, root=box, anchor=anchor)
    return visible_availability(page) if page is not None else None

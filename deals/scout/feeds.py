"""Reading deal sources into items: RSS/Atom, JSON feeds and HTML listing pages. Pure.

Prices come from the feed's own fields where it has them (`g:price`, `price`, JSON `price`),
otherwise from the title ("RTX 4070 for $499").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urljoin

import lxml.html
from lxml.cssselect import CSSSelector, SelectorError

from tracker.extraction.parsing import parse_amount, parse_currency

MAX_ITEMS = 1000


class FeedError(ValueError):
    """The source's content could not be read as the kind of feed it is set up as."""


@dataclass(frozen=True)
class FeedItem:
    external_id: str
    url: str
    title: str
    price: Decimal | None
    currency: str | None = None
    image_url: str = ""
    condition: str = "unknown"  # new, used, refurbished, unknown
    seller: str = ""


_CONDITIONS = {
    "new": "new",
    "brand new": "new",
    "neu": "new",
    "nuevo": "new",
    "used": "used",
    "pre-owned": "used",
    "preowned": "used",
    "second hand": "used",
    "gebraucht": "used",
    "refurbished": "refurbished",
    "renewed": "refurbished",
    "open box": "used",
}
# A currency before the amount ("$499.99", "£1,299") is read first: in "RTX 4070 £1,299" the
# model number must not be taken for a price with the pound sign after it.
_PRICE_PREFIXED = re.compile(r"(?:US\$|[$€£¥]|\b(?:USD|EUR|GBP|PLN)\b)\s?\d[\d.,]*")
_PRICE_SUFFIXED = re.compile(r"\d[\d.,]*\s?(?:[$€£]|\b(?:USD|EUR|GBP|PLN|kr)\b|zł)")


def parse_condition(text: str | None) -> str:
    value = (text or "").strip().lower().rsplit("/", 1)[-1]
    value = re.sub(r"condition$", "", value)
    for key, condition in _CONDITIONS.items():
        if key.replace(" ", "") == value.replace(" ", "").replace("-", "") or key == value:
            return condition
    for key, condition in _CONDITIONS.items():
        if re.search(rf"\b{re.escape(key)}\b", value):
            return condition
    return "unknown"


def price_from_text(text: str) -> tuple[Decimal | None, str | None]:
    """The first amount with a currency in a title or summary."""
    match = _PRICE_PREFIXED.search(text or "") or _PRICE_SUFFIXED.search(text or "")
    if not match:
        return None, None
    return parse_amount(match.group(0)), parse_currency(match.group(0))


def _item(
    *,
    external_id: str,
    url: str,
    title: str,
    price: object,
    currency: object,
    default_currency: str | None,
    image: str = "",
    condition: str | None = None,
    seller: str = "",
    text_for_price: str = "",
) -> FeedItem | None:
    title = " ".join((title or "").split())[:500]
    if not title or not (url or external_id):
        return None
    amount = parse_amount(price) if price not in (None, "") else None
    cur = (
        parse_currency(currency) if currency else (parse_currency(price) if isinstance(price, str) else None)
    )
    if amount is None:
        amount, found = price_from_text(title)
        if amount is None and text_for_price:
            amount, found = price_from_text(text_for_price)
        cur = cur or found
    return FeedItem(
        external_id=(external_id or url)[:500],
        url=url[:2000],
        title=title,
        price=amount,
        currency=cur or default_currency,
        image_url=(image or "")[:2000],
        condition=parse_condition(condition),
        seller=(seller or "")[:200],
    )


def parse_rss(content: str | bytes, *, base_url: str, default_currency: str | None = None) -> list[FeedItem]:
    import feedparser  # here, not at module level: about 10 MB a process that never reads a feed

    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        raise FeedError(f"not a readable RSS/Atom feed: {parsed.get('bozo_exception')!s:.200}")
    items: list[FeedItem] = []
    for entry in parsed.entries[:MAX_ITEMS]:
        link = urljoin(base_url, entry.get("link") or "")
        image = ""
        for media in entry.get("media_content") or entry.get("media_thumbnail") or []:
            image = media.get("url") or image
        item = _item(
            external_id=entry.get("id") or entry.get("guid") or link,
            url=link,
            title=entry.get("title") or "",
            price=entry.get("g_price") or entry.get("price"),
            currency=entry.get("g_currency") or entry.get("currency"),
            default_currency=default_currency,
            image=image or entry.get("g_image_link", ""),
            condition=entry.get("g_condition") or entry.get("condition"),
            seller=entry.get("author") or entry.get("g_brand") or "",
            text_for_price=re.sub(r"<[^>]+>", " ", entry.get("summary") or ""),
        )
        if item:
            items.append(item)
    return items


def _pick(data: dict, *keys: str) -> object:
    for key in keys:
        if key in data and data[key] not in (None, ""):
            return data[key]
    return None


def parse_json(content: str | bytes, *, base_url: str, default_currency: str | None = None) -> list[FeedItem]:
    """JSON Feed (`items`) or any list of objects with title/name and price fields."""
    try:
        data = json.loads(content)
    except (ValueError, TypeError) as exc:
        raise FeedError(f"not valid JSON: {exc}") from exc
    if isinstance(data, dict):
        data = _pick(data, "items", "products", "results", "deals", "data") or []
    if not isinstance(data, list):
        raise FeedError("the JSON has no list of items")
    items: list[FeedItem] = []
    for raw in data[:MAX_ITEMS]:
        if not isinstance(raw, dict):
            continue
        price = _pick(raw, "price", "_price", "current_price", "sale_price")
        currency = _pick(raw, "currency", "price_currency", "priceCurrency")
        if isinstance(price, dict):
            currency = currency or _pick(price, "currency", "currency_code")
            price = _pick(price, "amount", "value", "price")
        url = urljoin(base_url, str(_pick(raw, "url", "link", "external_url", "href") or ""))
        seller = _pick(raw, "seller", "merchant", "store", "author")
        if isinstance(seller, dict):
            seller = _pick(seller, "name")
        item = _item(
            external_id=str(_pick(raw, "id", "guid", "sku") or url),
            url=url,
            title=str(_pick(raw, "title", "name") or ""),
            price=price,
            currency=currency,
            default_currency=default_currency,
            image=str(_pick(raw, "image", "image_url", "thumbnail") or ""),
            condition=str(_pick(raw, "condition") or ""),
            seller=str(seller or ""),
            text_for_price=str(_pick(raw, "content_text", "summary", "description") or ""),
        )
        if item:
            items.append(item)
    return items


def _css(selector: str) -> CSSSelector:
    try:
        return CSSSelector(selector)
    except SelectorError as exc:
        raise FeedError(f"bad CSS selector {selector!r}: {exc}") from exc


def _value(node: lxml.html.HtmlElement, selector: str | None, attribute: str | None = None) -> str:
    if not selector:
        return ""
    found = _css(selector)(node)
    if not found:
        return ""
    el = found[0]
    if attribute:
        return (el.get(attribute) or "").strip()
    return " ".join(el.text_content().split())


def parse_html_list(
    content: str | bytes, *, base_url: str, pattern: dict, default_currency: str | None = None
) -> tuple[list[FeedItem], str | None]:
    """Items of a listing/search page by the source's pattern, and the next page's URL."""
    if not pattern or not pattern.get("item") or not pattern.get("title"):
        raise FeedError("an HTML source needs a pattern with at least `item` and `title` selectors")
    try:
        tree = lxml.html.fromstring(content)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise FeedError("the page is not readable HTML") from exc
    items: list[FeedItem] = []
    for node in _css(pattern["item"])(tree)[:MAX_ITEMS]:
        href = _value(node, pattern.get("url") or "a", "href")
        url = urljoin(base_url, href) if href else ""
        item = _item(
            external_id=_value(node, pattern.get("id"), pattern.get("id_attribute") or "data-id")
            if pattern.get("id")
            else url,
            url=url,
            title=_value(node, pattern["title"]),
            price=_value(node, pattern.get("price")),
            currency=None,
            default_currency=default_currency,
            image=urljoin(base_url, _value(node, pattern.get("image"), "src"))
            if pattern.get("image")
            else "",
            condition=_value(node, pattern.get("condition")),
            seller=_value(node, pattern.get("seller")),
        )
        if item:
            items.append(item)
    next_url = None
    if pattern.get("next"):
        href = _value(tree, pattern["next"], "href")
        next_url = urljoin(base_url, href) if href else None
    return items, next_url

"""Reading deal sources into items: RSS/Atom, JSON feeds and HTML listing pages. Pure.

Prices come from the feed's own fields where it has them (`g:price`, a merchant element's
`price` attribute, JSON `price` or a JSON Feed `_price` extension), otherwise from the title
("RTX 4070 for $499"), otherwise from the description's text.

Feeds are written by strangers: every read is bounded (`feed_bounds_check`: size, nesting
depth) and only http/https links are kept (a `javascript:` or `data:` link is dropped).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urljoin, urlsplit

import lxml.html
from django.conf import settings
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
    in_stock: bool | None = None  # None: the source does not say


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
    if not text:
        return "unknown"
    value = text.strip().lower().rsplit("/", 1)[-1]
    value = re.sub(r"condition$", "", value)
    for key, condition in _CONDITIONS.items():
        if key.replace(" ", "") == value.replace(" ", "").replace("-", "") or key == value:
            return condition
    # "Used – like new": the word that says it is not new wins over "new".
    for key, condition in sorted(_CONDITIONS.items(), key=lambda kv: kv[1] == "new"):
        if re.search(rf"\b{re.escape(key)}\b", value):
            return condition
    return "unknown"


_OUT_OF_STOCK = re.compile(r"out\s*of\s*stock|outofstock|sold\s*out|soldout|unavailable|discontinued|expired", re.I)
_IN_STOCK = re.compile(r"in\s*stock|instock|available|limited\s*availability|preorder|pre-order", re.I)


def parse_availability(value: object) -> bool | None:
    """True/False from what a feed says ("in stock", schema.org/OutOfStock, a boolean), None if silent."""
    if isinstance(value, bool):
        return value
    text = re.sub(r"[_-]+", " ", str(value or "")).strip()
    if not text:
        return None
    if _OUT_OF_STOCK.search(text):
        return False
    if _IN_STOCK.search(text):
        return True
    return None


def link_safe(url: str | None, *, base_url: str = "") -> str:
    """The absolute http(s) link, or "" for anything else (javascript:, data:, mailto:, junk)."""
    raw = (url or "").strip()
    if not raw:
        return ""
    try:
        own = urlsplit(raw)
        # "http://" or "//" alone would join to the feed's own address: no link, not the feed.
        if (own.scheme or raw.startswith("//")) and not own.hostname:
            return ""
        absolute = urljoin(base_url, raw) if base_url else raw
        parts = urlsplit(absolute)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return absolute[:2000]


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_XML_SKIPPED = re.compile(r"<!\[CDATA\[.*?\]\]>|<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>]*>", re.S)
_XML_TAG = re.compile(r"<(/?)[A-Za-z_][^>]*?(/?)>")


def _depth_over(steps, limit: int) -> bool:
    depth = 0
    for step in steps:
        depth += step
        if depth > limit:
            return True
    return False


def feed_bounds_check(content: str | bytes, *, kind: str) -> None:
    """Refuse a feed too large or nested too deep before a parser sees it.

    Parsers recurse (json) or crawl (feedparser takes half a minute on 200,000 nested
    elements), so depth is counted first with flat regular expressions that cannot recurse.
    """
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    if len(content) > settings.SCOUT_FEED_MAX_BYTES:
        raise FeedError(f"the feed is larger than SCOUT_FEED_MAX_BYTES ({settings.SCOUT_FEED_MAX_BYTES} bytes)")
    limit = settings.SCOUT_FEED_MAX_DEPTH
    if kind == "json":
        brackets = re.findall(r"[\[\]{}]", _JSON_STRING.sub("", content))
        too_deep = _depth_over((1 if b in "[{" else -1 for b in brackets), limit)
    else:
        tags = _XML_TAG.findall(_XML_SKIPPED.sub("", content))
        too_deep = _depth_over((0 if closing_self else (-1 if closing else 1) for closing, closing_self in tags), limit)
    if too_deep:
        raise FeedError(f"the feed is nested deeper than SCOUT_FEED_MAX_DEPTH ({limit} levels)")


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
    availability: object = None,
) -> FeedItem | None:
    title = " ".join((title or "").split())[:500]
    url = link_safe(url)
    external_id = (external_id or "").strip()
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
        image_url=link_safe(image),
        condition=parse_condition(condition),
        seller=(seller or "")[:200],
        in_stock=parse_availability(availability),
    )


def parse_rss(content: str | bytes, *, base_url: str, default_currency: str | None = None) -> list[FeedItem]:
    import feedparser  # here, not at module level: about 10 MB a process that never reads a feed

    feed_bounds_check(content, kind="xml")
    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        raise FeedError(f"not a readable RSS/Atom feed: {parsed.get('bozo_exception')!s:.200}")
    items: list[FeedItem] = []
    for parsed_entry in parsed.entries[:MAX_ITEMS]:
        # A plain dict: FeedParserDict's lookups (aliases, key maps) cost more than the rest of
        # this loop together. Its "guid" alias is "id" here.
        entry = {key: parsed_entry[key] for key in parsed_entry.keys()}
        link = link_safe(entry.get("link"), base_url=base_url)
        image = ""
        for media in entry.get("media_content") or entry.get("media_thumbnail") or []:
            image = media.get("url") or image
        merchant = _namespaced(entry, "merchant")
        merchant = merchant if isinstance(merchant, dict) else {}
        item = _item(
            external_id=_namespaced(entry, "id") or link,
            url=link,
            title=entry.get("title") or "",
            price=_namespaced(entry, "price") or merchant.get("price"),
            currency=_namespaced(entry, "currency"),
            default_currency=default_currency,
            image=_joined(base_url, image or _namespaced(entry, "image_link")),
            condition=_namespaced(entry, "condition"),
            seller=merchant.get("name") or _namespaced(entry, "brand") or entry.get("author") or "",
            text_for_price=_text(entry.get("summary") or _content(entry)),
            availability=_namespaced(entry, "availability"),
        )
        if item:
            items.append(item)
    return items


def _namespaced(entry: dict, name: str) -> object:
    """A field by its local name, whatever namespace prefix the feed gave it (`g:price`,
    `pepper:merchant`, a plain `price`): feedparser names them `<prefix>_<name>`."""
    if entry.get(name) not in (None, ""):
        return entry[name]
    for key, value in entry.items():
        if "_" in key and key.split("_", 1)[1] == name and value not in (None, ""):
            return value
    return None


def _joined(base_url: str, link: object) -> str:
    return link_safe(str(link), base_url=base_url) if link else ""


def _content(entry: dict) -> str:
    return " ".join(part.get("value", "") for part in entry.get("content") or [])


def _text(html: str) -> str:
    """The text of a description's HTML, for the price in it."""
    if not html or "<" not in html:
        return html or ""
    try:
        return " ".join(lxml.html.fromstring(html).text_content().split())
    except (lxml.etree.ParserError, ValueError):
        return re.sub(r"<[^>]+>", " ", html)


def _pick(data: dict, *keys: str) -> object:
    for key in keys:
        if key in data and data[key] not in (None, ""):
            return data[key]
    return None


def parse_json(content: str | bytes, *, base_url: str, default_currency: str | None = None) -> list[FeedItem]:
    """JSON Feed (`items`) or any list of objects with title/name and price fields."""
    feed_bounds_check(content, kind="json")
    try:
        data = json.loads(content)
    except (ValueError, TypeError, RecursionError) as exc:
        raise FeedError(f"not valid JSON: {exc!s:.200}") from exc
    if isinstance(data, dict):
        data = _pick(data, "items", "products", "results", "deals", "data") or []
    if not isinstance(data, list):
        raise FeedError("the JSON has no list of items")
    items: list[FeedItem] = []
    for raw in data[:MAX_ITEMS]:
        if not isinstance(raw, dict):
            continue
        # JSON Feed 1.1 keeps custom fields in "_"-prefixed extension objects.
        for key, extension in raw.items():
            if key.startswith("_") and isinstance(extension, dict):
                raw = {**extension, **raw}
        price = _pick(raw, "price", "_price", "current_price", "sale_price")
        currency = _pick(raw, "currency", "price_currency", "priceCurrency")
        if isinstance(price, dict):
            currency = currency or _pick(price, "currency", "currency_code")
            price = _pick(price, "amount", "value", "price")
        url = link_safe(str(_pick(raw, "url", "link", "external_url", "href") or ""), base_url=base_url)
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
            image=_joined(base_url, _pick(raw, "image", "image_url", "thumbnail", "banner_image")),
            condition=str(_pick(raw, "condition") or ""),
            seller=str(seller or ""),
            text_for_price=str(_pick(raw, "content_text", "summary", "description") or "")
            or _text(str(_pick(raw, "content_html") or "")),
            availability=_pick(raw, "availability", "in_stock", "stock"),
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
    if len(content) > settings.SCOUT_FEED_MAX_BYTES:
        raise FeedError(f"the page is larger than SCOUT_FEED_MAX_BYTES ({settings.SCOUT_FEED_MAX_BYTES} bytes)")
    try:
        tree = lxml.html.fromstring(content)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise FeedError("the page is not readable HTML") from exc
    items: list[FeedItem] = []
    for node in _css(pattern["item"])(tree)[:MAX_ITEMS]:
        url = link_safe(_value(node, pattern.get("url") or "a", "href"), base_url=base_url)
        item = _item(
            external_id=_value(node, pattern.get("id"), pattern.get("id_attribute") or "data-id")
            if pattern.get("id")
            else url,
            url=url,
            title=_value(node, pattern["title"]),
            price=_value(node, pattern.get("price")),
            currency=None,
            default_currency=default_currency,
            image=_joined(base_url, _value(node, pattern.get("image"), "src")) if pattern.get("image") else "",
            condition=_value(node, pattern.get("condition")),
            seller=_value(node, pattern.get("seller")),
            availability=_value(node, pattern.get("availability")),
        )
        if item:
            items.append(item)
    next_url = None
    if pattern.get("next"):
        next_url = link_safe(_value(tree, pattern["next"], "href"), base_url=base_url) or None
    return items, next_url

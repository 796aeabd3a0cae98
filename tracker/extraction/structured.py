"""Layer 1: structured data (JSON-LD, microdata, OpenGraph / product meta) read with extruct."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import lxml.html
from extruct.jsonld import JsonLdExtractor
from extruct.opengraph import OpenGraphExtractor
from extruct.w3cmicrodata import MicrodataExtractor
from lxml import etree

from .parsing import find_amounts, parse_amount, parse_availability, parse_currency
from .result import Availability

log = logging.getLogger(__name__)

_jsonld = JsonLdExtractor()
_microdata = MicrodataExtractor()
_opengraph = OpenGraphExtractor()

PRODUCT_TYPES = {"product", "productgroup", "individualproduct", "productmodel", "vehicle", "car", "book"}
OFFER_TYPES = {"offer", "aggregateoffer"}


@dataclass
class StructuredOffer:
    price: Decimal | None
    currency: str | None
    availability: Availability | None
    title: str | None
    image: str | None
    method: str  # "json-ld", "microdata", "opengraph"
    low_high: tuple[Decimal, Decimal] | None = None  # AggregateOffer range
    all_prices: tuple[Decimal, ...] = ()  # every offer's price, when offers differ
    regular: Decimal | None = None  # a price the syntax itself names the regular one (OpenGraph)


def _types(node: dict) -> set[str]:
    raw = node.get("@type") or node.get("type") or []
    if isinstance(raw, str):
        raw = [raw]
    return {str(t).rsplit("/", 1)[-1].lower() for t in raw if t}


def _first(value: object) -> object:
    while isinstance(value, list):
        if not value:
            return None
        value = value[0]
    return value


def _text(value: object) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("name") or value.get("@id")
        value = _first(value)
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _walk(node: object) -> Iterator[dict]:
    """Every dict in a JSON-LD document, `@graph` and nesting included."""
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key != "@context":
                yield from _walk(value)


def _offers_of(product: dict) -> list[dict]:
    offers = product.get("offers") or product.get("Offers") or []
    if isinstance(offers, dict):
        offers = [offers]
    result: list[dict] = []
    for offer in offers if isinstance(offers, list) else []:
        if not isinstance(offer, dict):
            continue
        result.append(offer)
        # AggregateOffer with a list of offers inside it.
        inner = offer.get("offers")
        if isinstance(inner, dict):
            inner = [inner]
        if isinstance(inner, list):
            result.extend(o for o in inner if isinstance(o, dict))
    return result


# Price specifications that state what the product used to or should cost, not what it costs:
# Google's sale markup puts the regular price in one with priceType StrikethroughPrice.
_OTHER_PRICE_TYPES = frozenset(
    {"listprice", "strikethroughprice", "srp", "msrp", "invoiceprice", "minimumadvertisedprice", "regularprice"}
)


def _not_the_price(spec: dict) -> bool:
    kind = _first(spec.get("priceType"))
    return isinstance(kind, str) and kind.rsplit("/", 1)[-1].lower() in _OTHER_PRICE_TYPES


def _offer_price(offer: dict) -> tuple[Decimal | None, str | None]:
    price = offer.get("price")
    if price is None or price == "":
        spec = offer.get("priceSpecification")
        specs = spec if isinstance(spec, list) else [spec]
        for item in specs:
            if isinstance(item, dict) and item.get("price") not in (None, "") and not _not_the_price(item):
                price = item.get("price")
                offer = {**offer, "priceCurrency": offer.get("priceCurrency") or item.get("priceCurrency")}
                break
    if isinstance(price, list) and len({parse_amount(p) for p in price if p not in (None, "")}) > 1:
        return None, None  # one offer stating two prices (list and sale): ambiguous
    raw = _first(price)
    if isinstance(raw, str) and len(find_amounts(raw, limit=3)) > 1:
        return None, None  # two prices in one value: malformed markup, not a price
    currency = parse_currency(_first(offer.get("priceCurrency")))
    if currency is None and isinstance(price, str):
        currency = parse_currency(price)
    # The currency's minor units settle `"1.299"` (three decimals or thousands?).
    amount = parse_amount(raw, currency=currency)
    return amount, currency


def _product_offer(product: dict, method: str) -> StructuredOffer | None:
    offers = _offers_of(product)
    title = _text(product.get("name"))
    image = _text(product.get("image"))
    prices: list[tuple[Decimal, str | None, Availability | None]] = []
    low_high = None
    for offer in offers:
        amount, currency = _offer_price(offer)
        availability = parse_availability(_first(offer.get("availability")))
        if "aggregateoffer" in _types(offer) or ("lowPrice" in offer and "highPrice" in offer):
            low = parse_amount(_first(offer.get("lowPrice")))
            high = parse_amount(_first(offer.get("highPrice")))
            currency = currency or parse_currency(_first(offer.get("priceCurrency")))
            if low and high and low != high and amount is None:
                low_high = (low, high)
                continue
            amount = amount or low
        if amount is not None:
            prices.append((amount, currency, availability))
    if not prices:
        if low_high or title:
            return StructuredOffer(None, None, None, title, image, method, low_high)
        return None
    distinct = {p[0] for p in prices}
    if len(distinct) > 1:
        # Several offers with different prices (variants, sellers): prefer one in stock at the
        # lowest price only when all share a currency; the pipeline may still judge it doubtful.
        in_stock = [p for p in prices if p[2] != Availability.OUT_OF_STOCK] or prices
        amount, currency, availability = min(in_stock, key=lambda p: p[0])
        return StructuredOffer(
            amount, currency, availability, title, image, method, low_high, tuple(sorted(distinct))
        )
    amount, currency, availability = prices[0]
    states = {p[2] for p in prices if p[2] is not None}
    # Offers per size or colour: the product is in stock when any of them is.
    availability = Availability.IN_STOCK if Availability.IN_STOCK in states else (states.pop() if states else None)
    return StructuredOffer(amount, currency, availability, title, image, method, low_high)


def jsonld_offers(tree: lxml.html.HtmlElement) -> list[StructuredOffer]:
    try:
        documents = _jsonld.extract_items(tree)
    except Exception:  # malformed JSON-LD is common; a broken block must not stop the page
        log.debug("unreadable JSON-LD", exc_info=True)
        return []
    found: list[StructuredOffer] = []
    for node in _walk(documents):
        if _types(node) & PRODUCT_TYPES:
            offer = _product_offer(node, "json-ld")
            if offer:
                found.append(offer)
    if not any(o.price is not None for o in found):
        # Offers published without a Product around them.
        for node in _walk(documents):
            if _types(node) & OFFER_TYPES and "price" in node:
                offer = _product_offer({"offers": node, "name": node.get("name")}, "json-ld")
                if offer and offer.price is not None:
                    found.append(offer)
    return found


def _microdata_to_dict(item: dict) -> dict:
    props = dict(item.get("properties") or {})
    props["@type"] = item.get("type")
    for key, value in list(props.items()):
        if isinstance(value, dict) and "properties" in value:
            props[key] = _microdata_to_dict(value)
        elif isinstance(value, list):
            props[key] = [
                _microdata_to_dict(v) if isinstance(v, dict) and "properties" in v else v
                for v in value
            ]
    return props


_HAS_ITEMSCOPE = etree.XPath("boolean(descendant-or-self::*/@itemscope)")


def microdata_offers(tree: lxml.html.HtmlElement) -> list[StructuredOffer]:
    # Microdata items begin at an `itemscope`; most pages have none, and this test runs in C,
    # while extruct walks every element in Python (3-4 ms on a 200 KB page).
    if not _HAS_ITEMSCOPE(tree):
        return []
    try:
        items = _microdata.extract_items(tree, None)
    except Exception:
        log.debug("unreadable microdata", exc_info=True)
        return []
    found: list[StructuredOffer] = []
    for node in _walk([_microdata_to_dict(i) for i in items]):
        if _types(node) & PRODUCT_TYPES:
            offer = _product_offer(node, "microdata")
            if offer:
                found.append(offer)
    return found


# Meta tags that name the regular (before-sale) price beside `product:price:amount`.
_OG_REGULAR = ("og:price:standard_amount", "product:price:standard_amount", "product:original_price:amount",
               "og:original_price:amount")


def opengraph_offers(tree: lxml.html.HtmlElement) -> list[StructuredOffer]:
    meta: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = el.get("content")
        if key and content and key not in meta:
            meta[key] = content.strip()
    amount = None
    currency = None
    for prefix in ("product:sale_price", "product:price", "og:price"):
        if amount is None and meta.get(f"{prefix}:amount"):
            currency = parse_currency(meta.get(f"{prefix}:currency"))
            amount = parse_amount(meta[f"{prefix}:amount"], currency=currency)
    if amount is None and not meta.get("og:title"):
        return []
    regular = next(
        (parse_amount(meta[key]) for key in _OG_REGULAR if meta.get(key)), None
    )
    availability = parse_availability(
        meta.get("product:availability") or meta.get("og:availability")
    )
    return [
        StructuredOffer(
            amount,
            currency,
            availability,
            meta.get("og:title"),
            meta.get("og:image"),
            "opengraph",
            regular=regular,
        )
    ]


def structured_offers(tree: lxml.html.HtmlElement) -> list[StructuredOffer]:
    """All product offers the page publishes, most trusted syntax first."""
    offers: list[StructuredOffer] = []
    for reader in (jsonld_offers, microdata_offers, opengraph_offers):
        offers.extend(reader(tree))
    return offers


def first_with_price(offers: Iterable[StructuredOffer]) -> StructuredOffer | None:
    return next((o for o in offers if o.price is not None), None)


@dataclass
class StructuredVerdict:
    """What the structured data, read as a whole, says about the main product's price."""

    price: Decimal | None = None
    currency: str | None = None
    availability: Availability | None = None
    title: str | None = None
    image: str | None = None
    method: str | None = None
    # Every distinct price the main product's structured data states (all syntaxes, all offers).
    values: dict[Decimal, list[str]] = field(default_factory=dict)
    has_range: bool = False
    # The lowest and highest price of the main product's AggregateOffer(s), and their syntax.
    price_range: tuple[Decimal, Decimal] | None = None
    range_method: str | None = None
    reason: str | None = None


def _foreign(name: str | None, page_words: set[str]) -> bool:
    words = set(re.findall(r"\w{3,}", (name or "").lower()))
    return len(words) >= 2 and not words & page_words


def _main(offers: list[StructuredOffer], page_title: str) -> list[StructuredOffer]:
    """Per syntax, the product whose name best matches the page title (others are usually
    recommendations); ties keep the first."""
    words = set(re.findall(r"\w{3,}", page_title.lower()))
    chosen: list[StructuredOffer] = []
    for method in ("json-ld", "microdata", "opengraph"):
        group = [o for o in offers if o.method == method]
        if words and method != "opengraph":
            # A named product that shares no word with the page title is another product
            # (a recommendation, an accessory), not the one this page sells.
            group = [o for o in group if not _foreign(o.title, words)]
        if not group:
            continue
        if len(group) == 1 or not words:
            chosen.append(group[0])
            continue

        def overlap(offer: StructuredOffer) -> float:
            name = set(re.findall(r"\w{3,}", (offer.title or "").lower()))
            return len(name & words) / (len(name) or 1)

        best = max(group, key=lambda o: (overlap(o), o.price is not None))
        # Products with no name are often the page's own offer split in pieces.
        chosen.append(best)
        chosen.extend(o for o in group if o is not best and not o.title and o.price is not None)
    return chosen


def _sale_price(verdict: StructuredVerdict, main: list[StructuredOffer]) -> StructuredOffer | None:
    """Of two prices, the one OpenGraph states as the price while naming the other (higher)
    one its regular price: the other syntaxes then carry the regular price of a product on sale."""
    for offer in main:
        if offer.method != "opengraph" or offer.price is None or offer.regular is None:
            continue
        if offer.price < offer.regular and set(verdict.values) == {offer.price, offer.regular}:
            return offer
    return None


def structured_verdict(tree: lxml.html.HtmlElement, *, page_title: str = "") -> StructuredVerdict:
    """One answer from JSON-LD, microdata and OpenGraph together.

    `price` is set only when every syntax that states a price for the main product states
    the same one, or OpenGraph explains a second one as its regular price; otherwise `values`
    lists what each says and `reason` explains.
    """
    offers = structured_offers(tree)
    verdict = StructuredVerdict()
    if not offers:
        verdict.reason = "the page has no structured data for a product"
        return verdict
    main = _main(offers, page_title)
    verdict.title = next((o.title for o in main if o.title and o.method != "opengraph"), None) or next(
        (o.title for o in main if o.title), None
    )
    verdict.image = next((o.image for o in main if o.image), None)
    for offer in main:
        if offer.price is not None:
            verdict.values.setdefault(offer.price, []).append(offer.method)
            for extra in offer.all_prices:
                if extra != offer.price:
                    verdict.values.setdefault(extra, []).append(offer.method)
        if offer.low_high and offer.low_high[0] != offer.low_high[1]:
            verdict.has_range = True
            low, high = offer.low_high
            if verdict.price_range is not None:
                low, high = min(low, verdict.price_range[0]), max(high, verdict.price_range[1])
            verdict.price_range = (low, high)
            verdict.range_method = verdict.range_method or offer.method
        if verdict.currency is None and offer.currency:
            verdict.currency = offer.currency
    availabilities = [o.availability for o in main if o.availability is not None]
    if availabilities:
        verdict.availability = (
            Availability.IN_STOCK if Availability.IN_STOCK in availabilities else availabilities[0]
        )
    if not verdict.values:
        verdict.reason = (
            "the structured data gives only a price range"
            if verdict.has_range
            else "no price in the page's structured data"
        )
        return verdict
    sale = _sale_price(verdict, main) if len(verdict.values) == 2 else None
    if sale is not None:
        # `values` keeps the regular price: a page that shows it settles the matter otherwise.
        verdict.price, verdict.method = sale.price, sale.method
        return verdict
    if len(verdict.values) > 1:
        shown = ", ".join(f"{v} ({'/'.join(sorted(set(m)))})" for v, m in verdict.values.items())
        verdict.reason = f"the structured data states several prices: {shown}"
        return verdict
    verdict.price = next(iter(verdict.values))
    verdict.method = next(o.method for o in main if o.price == verdict.price)
    return verdict

"""Layer 3: find the price from the page's DOM alone, and a stable selector for it.

Candidates are visible texts that read as a price with a currency (or `itemprop=price` /
price-named elements carrying a machine value). Each is scored by what the page says about
it — names like price/sale/current, nearness to the product title, emphasis — and dropped
when it is a "was"/list price, a saving, a per-unit price, a shipping threshold, an
instalment, or sits in a recommendation block, a header/footer or a hidden element.
The winner must beat every other amount by a margin; otherwise no price (precision first).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

from .parsing import (
    _CUR_SIGN,
    _CUR_WORD,
    AmountToken,
    availability_from_text,
    currency_of_symbol,
    find_amounts,
    parse_amount,
)
from .patterns import FieldRule, SelectorError, apply_rule
from .result import Availability

MAX_ELEMENTS = 60_000
MAX_TEXT_NODES = 20_000
MAX_CANDIDATES = 400
MIN_SCORE = 4.0
MARGIN = 2.0

_SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "svg", "head", "select", "option", "textarea",
     "iframe", "title", "meta", "link"}
)
_ZONE_TAGS = frozenset({"header", "footer", "nav", "aside"})
_STRUCK_TAGS = frozenset({"del", "s", "strike"})
_HIDDEN_CLASSES = frozenset(
    {"hidden", "hide", "d-none", "displaynone", "display-none", "ng-hide", "a-hidden", "is-hidden",
     "invisible", "visuallyhidden-off", "u-hidden", "js-hidden", "hidden-xs-up", "collapse"}
)
_HIDDEN_STYLE = re.compile(r"(?<![-\w])(?:display\s*:\s*none|visibility\s*:\s*hidden)", re.IGNORECASE)
_STRIKE_STYLE = re.compile(r"line-through", re.IGNORECASE)

# Containers whose prices belong to other products or other offers.
_ZONE_WORDS = re.compile(
    r"related|recommend|similar|upsell|up-sell|crosssell|cross-sell|alsobought|also-bought|"
    r"also_bought|alsoviewed|also-viewed|also-like|youmay|you-may|you_may|recently|carousel|"
    r"frequently|bought-together|boughttogether|fbt|sponsor|breadcrumb|review|newsletter|"
    r"accessor|warrant|protection-plan|sidebar|suggest|complete-the-look|shop-the-look|"
    r"completethelook|minicart|mini-cart|cart-drawer|cartdrawer|megamenu|mega-menu|"
    r"p13n|sims-|rvi-|comparison|bulk|compare-table|other-sellers|othersellers|more-buying|mbc|bundle|compare-products|"
    r"wishlist|quickview|quick-view|product-list|productlist|product-grid|productgrid|"
    r"product-tile|producttile|tile|slick|swiper|owl-|top-?seller|bestseller|cookie|modal",
    re.IGNORECASE,
)
_NEG_WORDS = frozenset(
    {"old", "was", "list", "listprice", "compare", "compareat", "rrp", "msrp", "strike",
     "strikethrough", "strikeout", "crossed", "crossedout", "original", "before", "retail",
     "uvp", "reg", "save", "saving", "savings", "yousave", "instalment", "installment",
     "installments", "instalments", "klarna", "afterpay", "affirm", "sezzle", "unit",
     "unitprice", "baseprice", "shipping", "delivery", "linethrough", "nonsale", "prev",
     "previous", "de", "antes", "parcela", "parcelas", "parcelado", "tax",
     "excl", "net", "netto", "coupon", "subscription", "subscribe", "member", "club",
     "ship", "emi", "monthly", "per", "strikeprice", "oldprice", "wasprice",
     "marketplace", "outlet", "openbox", "giftcard", "egift", "minimal", "tier", "tierprice",
     "used", "refurbished", "seller", "sellers", "rewards", "points", "financing", "finance"}
)
_SOFT_NEG_WORDS = frozenset({"regular", "from", "min", "max", "range", "total"})
_POS_WORDS = frozenset(
    {"sale", "special", "current", "final", "now", "our", "actual", "offer", "selling",
     "deal", "your", "pay", "buy", "main", "new", "promo", "discounted", "reduced", "today",
     "priceblock", "ourprice", "saleprice", "dealprice", "finalprice", "currentprice",
     "productprice", "pdp", "buybox", "purchase"}
)
_EMPHASIS_WORDS = frozenset({"big", "large", "lg", "xl", "xxl", "bold", "strong", "highlight",
                             "primary", "headline", "hero", "main"})

_BEFORE_BAD = re.compile(
    r"(?:\bwas|\breg\.?|\bregular(?: price)?|\blist(?: price)?|\brrp|\bmsrp|\buvp|\bstatt|"
    r"\bde:?|\bbefore|\boriginally|\boriginal(?: price)?|\bcompare at|\bretail(?: price)?|"
    r"\bvalue|\bsave|\byou save|\bsavings?|\beconomiz\w*|\bahorr\w*|\bsparen|\bspar\w*|"
    r"\bshipping(?: cost)?|\bdelivery|\bentrega|\benv[ií]o|\bfrete|\bversand\w*|\bs&h|"
    r"\bover|\bunder|\babove|\bevery|\bfor each|\borders?(?: of)?|\bspend|\bmin(?:imum)?|\d+\s?x(?: de)?|\bx de|"
    r"payments? of|\binstal+ments?(?: of)?|\bklarna|\bafterpay|\baffirm|\bas low as|"
    r"\bpay in \w+|\bparcelas?|\bzzgl\.?(?: mwst\.?)?|\bexcl\.?(?: vat| tax)?|\bnet|"
    r"\bmember(?:s)? price|\bprime|\bstudents?|\bsubscribe|\bauto-?restock|\bclub|"
    r"\bwarranty|\bprotection|\bcoupon|\bgift card|\bcredit|\bplus|\+|\bimport|\bdeposit|"
    r"\bfinanc\w*|\bmonthly|\bper month|\bbonus|\bcashback|\brewards?|"
    r"\bused(?: from)?|\bnew from|\brefurbished|\bother sellers?|\bsellers? from|\bvon|"
    r"\boffers? from|\bopen box(?: outlet)?(?: price)?(?: from)?|\boutlet(?: price)?|"
    r"\bmarketplace|\bgift ?cards?|\begift|\bas low as|\bpvpr?:?|\bantes)"
    r"(?:\s*\([^)]{0,15}\))?\W{0,3}$",
    re.IGNORECASE,
)
_AFTER_BAD = re.compile(
    r"^\W{0,2}(?:/\s?\w|per\b|pro\b|each\s*\(reg|a month|/mo\b|mo\.|month|monthly|x\b|"
    r"off\b|% off|savings|shipping\b(?!\s*:)|delivery\b(?!\s*:)|versand\b|frete\b|s/ juros|sem juros|"
    r"interest|for eligible|with prime|prime\b|with code|back\b|cashback|credit|"
    r"in rewards|reward|import|deposit|spent|spend|or more|and up|& under|and under|or less)",
    re.IGNORECASE,
)
_BEFORE_GOOD = re.compile(
    r"(?:\bnow|\bsale|\bprice|\bpreis|\bpreço|\bprecio|\bprix|\bcena|\bour price|\byour price|"
    r"\btoday|\bpor|\bjetzt|\bonly|\bdeal|\bspecial|\bbuy|\bkindle price|\byou pay|"
    r"\bstarts? at|\bstarting (?:at|from)|\bfrom|inkl\.?(?: mwst)?)\W{0,3}$",
    re.IGNORECASE,
)
_DOLLAR_LIKE = frozenset({"CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "ARS", "CLP", "COP", "TWD"})
_DIGIT = re.compile(r"\d")
# "$17.01 (61%)" is what you save, not what you pay.
_PERCENT_AFTER = re.compile(r"^\s*\(\s*\d{1,2}(?:[.,]\d)?\s?%\s*\)")
_PERCENT_BEFORE = re.compile(r"\(\s*\d{1,2}(?:[.,]\d)?\s?%\s*\)\s*$")
_CURRENCY_HINT = re.compile(rf"{_CUR_WORD}|{_CUR_SIGN}")
_RANGE_JOIN = re.compile(r"^\s*(?:-|–|—|to|bis|a|à|~)\s*$", re.IGNORECASE)
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_GENERATED = re.compile(
    r"\d{3,}|^[a-z]{1,3}-[a-z0-9]{5,}$|^css-|^sc-|^jsx-|^_|__[a-z0-9]{4,}$|[a-f0-9]{6,}|"
    r"^ng-|^ember|^js-|^is-|^has-|active|selected|hover|focus|open|^col-|^row$|clearfix|"
    r"^[a-z]{1,2}\d|^u-|^a-(?:size|color|text|spacing)|^float|^pull-|^text-|^font-",
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


@dataclass
class HeuristicResult:
    price: Decimal | None = None
    currency: str | None = None
    availability: Availability | None = None
    confidence: float = 0.0
    selector: FieldRule | None = None
    reason: str | None = None
    candidates: list[Candidate] = field(default_factory=list)


def _words(el: etree._Element) -> set[str]:
    raw = f"{el.get('class') or ''} {el.get('id') or ''} {el.get('itemprop') or ''} {el.get('data-testid') or ''}"
    if not raw.strip():
        return set()
    raw = _CAMEL.sub("-", raw).lower()
    parts = {w for w in _WORD_SPLIT.split(raw) if w}
    # Joined forms too: "old-price" -> "oldprice".
    for token in raw.split():
        parts.add(re.sub(r"[^a-z0-9]", "", token))
    return parts


def _attr_text(el: etree._Element) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower()


def _is_hidden(el: etree._Element) -> bool:
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
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
class _Page:
    body: etree._Element
    order: dict[int, int]
    hidden: set[int]
    zone: set[int]
    struck: set[int]
    anchor: etree._Element | None
    anchor_path: list[etree._Element]
    visible_text_nodes: list[tuple[etree._Element, str, bool]]  # (owner, text, is_tail)
    # lxml proxies must stay alive for their id() to stay unique.
    keep: list[etree._Element] = field(default_factory=list)


def _title_words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w{3,}", text.lower())}


def _find_anchor(body: etree._Element, doc_title: str, hidden: set[int], zone: set[int]):
    best, best_score = None, -1.0
    title_words = _title_words(doc_title)
    for el in body.iter("h1"):
        if id(el) in hidden or id(el) in zone:
            continue
        text = " ".join(el.text_content().split())
        if len(text) < 3:
            continue
        words = _title_words(text)
        overlap = len(words & title_words) / (len(words) or 1) if title_words else 0.5
        if overlap > best_score:
            best, best_score = el, overlap
    if best is None:
        for el in body.iter():
            if el.get("itemprop") == "name" and id(el) not in hidden and id(el) not in zone:
                return el
    return best


def _scan(tree: etree._Element, *, root: etree._Element | None = None,
          anchor: etree._Element | None = None) -> _Page | None:
    body = root if root is not None else tree.find(".//body")
    if body is None:
        body = tree
    order: dict[int, int] = {}
    hidden: set[int] = set()
    zone: set[int] = set()
    struck: set[int] = set()
    texts: list[tuple[etree._Element, str, bool]] = []
    zone_cache: dict[str, bool] = {}
    hidden_cache: dict[str, bool] = {}
    # Iterative walk carrying inherited flags (hidden, zone, struck).
    stack: list[tuple[etree._Element, bool, bool, bool]] = [(body, False, False, False)]
    count = 0
    keep: list[etree._Element] = []
    while stack and count < MAX_ELEMENTS:
        el, is_hidden, in_zone, is_struck = stack.pop()
        tag = el.tag
        if not isinstance(tag, str):
            continue
        tag = tag.lower()
        if tag in _SKIP_TAGS:
            continue
        keep.append(el)
        count += 1
        key = id(el)
        order[key] = count
        attrib = el.attrib
        classes = attrib.get("class")
        ident = attrib.get("id")
        style = attrib.get("style")
        if not is_hidden:
            if "hidden" in attrib or attrib.get("aria-hidden") == "true" or attrib.get("type") == "hidden":
                is_hidden = True
            elif style and ("none" in style or "hidden" in style) and _HIDDEN_STYLE.search(style):
                is_hidden = True
            elif classes:
                flag = hidden_cache.get(classes)
                if flag is None:
                    flag = hidden_cache[classes] = any(c in _HIDDEN_CLASSES for c in classes.lower().split())
                is_hidden = flag
        if not in_zone:
            if tag in _ZONE_TAGS:
                in_zone = True
            else:
                if classes:
                    flag = zone_cache.get(classes)
                    if flag is None:
                        flag = zone_cache[classes] = bool(_ZONE_WORDS.search(classes))
                    in_zone = flag
                if ident and not in_zone:
                    in_zone = bool(_ZONE_WORDS.search(ident))
        if not is_struck and (tag in _STRUCK_TAGS or (style and "line" in style and _STRIKE_STYLE.search(style))):
            is_struck = True
        if is_hidden:
            hidden.add(key)
            continue  # nothing below a hidden element is read
        if in_zone:
            zone.add(key)
        if is_struck:
            struck.add(key)
        if tag == "button":
            continue  # seen for stock wording, never read for prices
        if el.text and len(texts) < MAX_TEXT_NODES:
            texts.append((el, el.text, False))
        children = list(el)
        for child in reversed(children):
            stack.append((child, is_hidden, in_zone, is_struck))
        for child in children:
            tail = child.tail
            if tail and len(texts) < MAX_TEXT_NODES and not tail.isspace():
                texts.append((el, tail, True))
    title_el = tree.find(".//title")
    doc_title = title_el.text_content() if title_el is not None else ""
    for meta in tree.iter("meta"):
        if (meta.get("property") or "").lower() == "og:title":
            doc_title = f"{doc_title} {meta.get('content') or ''}"
            break
    # A zone that holds the product title is the product's own container, not a zone.
    if anchor is None:
        anchor = _find_anchor(body, doc_title, hidden, set())
    if anchor is not None and id(anchor) in zone:
        for ancestor in anchor.iterancestors():
            zone.discard(id(ancestor))
        zone.discard(id(anchor))
        _rezone(body, anchor, hidden, zone)
    anchor_path = list(anchor.iterancestors()) if anchor is not None else []
    return _Page(body, order, hidden, zone, struck, anchor, anchor_path, texts, keep)


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
                attrs = _attr_text(el)
                in_zone = bool(attrs.strip() and _ZONE_WORDS.search(attrs))
        if in_zone:
            zone.add(id(el))
        stack.extend((child, in_zone) for child in el)


def _bounded_text(el: etree._Element, limit: int) -> str | None:
    """The element's text, or None as soon as it grows past `limit` characters."""
    parts: list[str] = []
    size = 0
    for piece in el.itertext():
        parts.append(piece)
        size += len(piece)
        if size > limit * 3:
            return None
    text = " ".join("".join(parts).split())
    return text if len(text) <= limit else None


def _price_text(el: etree._Element, limit: int = 400) -> str:
    """Visible text of a small element; superscript cents (`$31<sup>57</sup>`) get their point."""
    if len(el) == 0:
        return " ".join((el.text or "").split())
    parts: list[str] = []
    size = 0
    for steps, node in enumerate(el.iter()):
        if size > limit or steps > 60:
            parts.append(" " * (limit + 1))
            break
        size += len(node.text or "") + len(node.tail or "")
        if not isinstance(node.tag, str) or node.tag.lower() in _SKIP_TAGS:
            if node is not el and node.tail:
                parts.append(node.tail)
            continue
        if node is not el and _is_hidden(node) and node.get("aria-hidden") != "true":
            if node.tail:
                parts.append(node.tail)
            continue
        text = node.text or ""
        if node.tag.lower() == "sup" and re.fullmatch(r"\s*\d{2}\s*", text) and parts and re.search(r"\d\s*$", parts[-1]):
            text = "." + text.strip()
        parts.append(text)
        if node is not el and node.tail:
            parts.append(node.tail)
    return " ".join("".join(parts).split())


def _context(el: etree._Element, text: str, page: _Page) -> tuple[str, str]:
    """Text just before and just after the candidate, within its price block."""
    before, after = "", ""
    node = el
    for _ in range(3):
        parent = node.getparent()
        if parent is None:
            break
        full = _bounded_text(parent, 400) if id(parent) not in page.hidden else ""
        if full is None:
            break
        pos = full.find(text)
        if pos >= 0:
            before = full[max(0, pos - 40):pos]
            after = full[pos + len(text):pos + len(text) + 40]
            if before.strip() and after.strip():
                break
        node = parent
    return before, after


def _owner(el: etree._Element, page: _Page) -> tuple[etree._Element, str] | None:
    """The smallest element around a digit-bearing text whose text holds a whole price."""
    node = el
    for _ in range(4):
        if node is None or id(node) in page.hidden:
            return None
        text = _price_text(node, 120)
        if len(text) > 120:
            return None
        if find_amounts(text, limit=1):
            nxt = node.getnext()
            if nxt is not None and isinstance(nxt.tag, str) and nxt.tag.lower() == "sup" and re.search(r"\d$", text):
                node = node.getparent()
                continue
            return node, text
        node = node.getparent()
    return None


def _ancestors(el: etree._Element, depth: int) -> Iterator[etree._Element]:
    yield el
    for i, ancestor in enumerate(el.iterancestors()):
        if i >= depth:
            return
        yield ancestor


def _score(c: Candidate, page: _Page, before: str, after: str) -> None:
    el = c.element
    if id(el) in page.struck:
        c.rejected = "struck through"
        return
    if id(el) in page.zone:
        c.in_zone = True
    # Names of the element and its close ancestors.
    for depth, node in enumerate(_ancestors(el, 3)):
        words = _words(node)
        if not words:
            continue
        if node.get("itemprop") in ("price", "lowPrice"):
            c.score += 6 if depth <= 1 else 3
            c.reasons.append("itemprop=price")
        bad = words & _NEG_WORDS
        if bad and depth <= 2:
            c.rejected = f"named {sorted(bad)[0]!r}"
            return
        if words & _SOFT_NEG_WORDS and depth <= 2:
            c.score -= 1.5
        if any("price" in w or "preis" in w or "preco" in w or "precio" in w or "prix" in w or "amount" in w for w in words):
            c.score += 3 if depth <= 1 else 1.5
            c.reasons.append("price-named")
        if words & _POS_WORDS:
            c.score += 1.5
        if depth <= 1 and words & _EMPHASIS_WORDS:
            c.score += 0.5
        if node.tag in ("strong", "b", "h2", "h3", "h1") and depth <= 1:
            c.score += 0.5
    if _BEFORE_BAD.search(before):
        c.rejected = f"label {before.strip()[-20:]!r}"
        return
    if _PERCENT_AFTER.match(after) or _PERCENT_BEFORE.search(before):
        c.rejected = "a saving with its percentage"
        return
    if _AFTER_BAD.search(after):
        c.rejected = f"followed by {after.strip()[:20]!r}"
        return
    if _RANGE_JOIN.match(after[:4] or "") or re.match(r"^\s*(?:-|–|—|to|bis)\s*\S{0,4}\s?\d", after):
        c.rejected = "price range"
        c.reasons.append("range")
        return
    if re.search(r"(?:-|–|—|\bto|\bbis)\s*$", before) and find_amounts(before[-20:], limit=1):
        c.rejected = "price range"
        c.reasons.append("range")
        return
    if _BEFORE_GOOD.search(before):
        c.score += 1.5
        c.reasons.append("labelled")
    if before.rstrip().endswith("+"):
        c.rejected = "add-on price"
        return
    # Nearness to the product title.
    if page.anchor is not None:
        distance = c.order - page.order.get(id(page.anchor), 0)
        if 0 <= distance <= 80:
            c.score += 3
        elif 0 <= distance <= 250:
            c.score += 2
        elif 0 <= distance <= 700:
            c.score += 1
        elif -60 <= distance < 0:
            c.score += 1
        elif distance < -60:
            c.score -= 1.5
        shared = _shared_depth(el, page)
        if shared is not None:
            c.score += 2 if shared <= 3 else 1 if shared <= 5 else 0
    if c.in_zone:
        c.score -= 6
    if any(node.tag == "a" for node in _ancestors(el, 3)):
        c.score -= 2  # links lead to other products and offers
        c.reasons.append("link")
    if c.currency:
        c.score += 0.5
    if c.tokens_in_element > 1:
        c.score -= 1
    # A price inside a sentence ("Earn $25 for every $250 spent") is rarely the product's.
    if len(re.findall(r"[^\W\d]{2,}", c.text)) > 4 and "price-named" not in c.reasons:
        c.score -= 3
        c.reasons.append("prose")


def _shared_depth(el: etree._Element, page: _Page) -> int | None:
    """How many levels above the title the nearest common ancestor of title and price is."""
    ancestors = {id(a): i for i, a in enumerate(page.anchor_path)}
    for node in el.iterancestors():
        if id(node) in ancestors:
            return ancestors[id(node)] + 1
    return None


def _candidates(page: _Page) -> list[Candidate]:
    seen: set[int] = set()
    found: list[Candidate] = []
    for owner, text, _is_tail in page.visible_text_nodes:
        if len(found) >= MAX_CANDIDATES:
            break
        if not _DIGIT.search(text):
            continue
        # Only texts with a currency, or short number pieces of a split price ("37", ".30").
        if len(text) > 14 and not _CURRENCY_HINT.search(text):
            continue
        located = _owner(owner, page)
        if located is None:
            continue
        el, el_text = located
        if id(el) in seen:
            continue
        seen.add(id(el))
        tokens = find_amounts(el_text, limit=4)
        for token in tokens:
            found.append(_candidate(el, token, el_text, page, len(tokens)))
    # Machine values on price-named elements without a printed currency (`content="75.00"`).
    for el in _MACHINE_PRICES(page.body):
        if len(found) >= MAX_CANDIDATES:
            break
        if id(el) in seen or id(el) in page.hidden or id(el) not in page.order:
            continue
        itemprop = el.get("itemprop")
        content = el.get("content")
        if itemprop == "price" or (content and "price" in _attr_text(el)):
            value = content or _price_text(el)
            amount = parse_amount(value) if value and len(value) < 40 else None
            if amount is None:
                continue
            seen.add(id(el))
            token = AmountToken(amount, None, 0, len(value), None)
            found.append(_candidate(el, token, value, page, 1))
    # The first half of a range ("$19.95 – $24.95") is known only once the second is seen.
    for previous, current in zip(found, found[1:], strict=False):
        if "range" in current.reasons and previous.rejected is None and 0 <= current.order - previous.order <= 12:
            previous.rejected = "price range"
            previous.reasons.append("range")
    return found


_MACHINE_PRICES = etree.XPath(
    ".//*[@itemprop='price' or (@content and contains(translate(@class, 'PRICE', 'price'), 'price'))]"
)


def _candidate(el, token: AmountToken, el_text: str, page: _Page, n_tokens: int) -> Candidate:
    c = Candidate(
        element=el,
        amount=token.amount,
        currency=token.currency,
        symbol=token.symbol,
        text=el_text,
        order=page.order.get(id(el), 0),
        tokens_in_element=n_tokens,
    )
    local_before = el_text[: token.start]
    local_after = el_text[token.end:]
    before, after = local_before, local_after
    if len(before.strip()) < 15 or not after.strip():
        outer_before, outer_after = _context(el, el_text, page)
        if len(before.strip()) < 15:
            before = f"{outer_before} {before}" if before.strip() else outer_before
        after = after if after.strip() else outer_after
    _score(c, page, before[-40:], after[:40])
    return c


def heuristic_price(tree: etree._Element, *, currency_hint: str | None = None) -> HeuristicResult:
    """The page's own price, judged from the DOM alone, with a selector that finds it again."""
    page = _scan(tree)
    if page is None:
        return HeuristicResult(reason="the page has no body")
    candidates = _candidates(page)
    result = HeuristicResult(candidates=candidates)
    result.availability = visible_availability(page)
    live = [c for c in candidates if c.rejected is None]
    if not live:
        if any("range" in c.reasons and not c.in_zone for c in candidates):
            result.reason = "the page shows a price range"
        elif candidates:
            result.reason = f"every price on the page was ruled out (e.g. {candidates[0].text[:30]!r}: {candidates[0].rejected})"
        else:
            result.reason = "no price-like text on the page"
        return result
    live.sort(key=lambda c: (-c.score, c.order))
    best = live[0]
    rival = next((c for c in live[1:] if c.amount != best.amount), None)
    lone = rival is None and not best.in_zone and best.score >= MIN_SCORE / 2 and (
        "labelled" in best.reasons or "price-named" in best.reasons or "itemprop=price" in best.reasons
    )
    if best.score < MIN_SCORE and not lone:
        result.reason = f"no convincing price (best {best.text[:30]!r} scored {best.score:.1f})"
        return result
    if "range" in best.reasons:
        result.reason = "the page shows a price range"
        return result
    if rival is not None and best.score - rival.score < MARGIN:
        picked = _sale_pair(best, rival)
        if picked is None:
            result.reason = (
                f"several prices compete ({best.text[:25]!r} {best.score:.1f} vs "
                f"{rival.text[:25]!r} {rival.score:.1f})"
            )
            return result
        best = picked
    result.price = best.amount
    result.currency = best.currency or (currency_hint if best.symbol in (None, "$") else None)
    # "$" and "kr" are shared by several currencies: the page's own hint decides.
    if best.symbol == "$" and currency_hint in _DOLLAR_LIKE:
        result.currency = currency_hint
    elif best.symbol in ("kr", "kr.") and currency_hint in ("SEK", "NOK", "DKK", "ISK"):
        result.currency = currency_hint
    margin = best.score - rival.score if rival else best.score
    result.confidence = round(min(0.85, 0.5 + 0.05 * margin), 2)
    result.selector = derive_selector(tree, best.element, best.amount)
    return result


def _sale_pair(a: Candidate, b: Candidate) -> Candidate | None:
    """Two prices side by side in one block with a sale marker: the lower is the current one."""
    parent_a = a.element.getparent()
    parent_b = b.element.getparent()
    if parent_a is None or parent_b is None:
        return None
    block = None
    for node in _ancestors(parent_a, 2):
        if node is parent_b or any(node is x for x in _ancestors(parent_b, 2)):
            block = node
            break
    if block is None:
        return None
    text = " ".join(block.text_content().split())
    if len(text) > 200 or len({t.amount for t in find_amounts(text)}) != 2:
        return None
    if re.search(r"%|\boff\b|\bsave\b|\bsale\b|\bnow\b|\bwas\b|\breg\b|\bstatt\b|\bde:", text, re.IGNORECASE):
        return a if a.amount < b.amount else b
    return None


_STORE_ONLY = re.compile(r"pick ?up|in[- ]store|nearby|near you|store stock|in your area", re.IGNORECASE)


def visible_availability(page: _Page) -> Availability | None:
    """Stock from the visible buy box: out-of-stock wording, stock statements, cart buttons.

    Out-of-stock wording beats a cart button (shops often leave the button in place), but
    out-of-stock wording next to an explicit "in stock" statement is a contradiction: None.
    Store-pickup notes ("not available for pickup near you") say nothing about the shop.
    """
    if page.anchor is None:
        return None
    box = _buy_box(page.anchor)
    out = in_text = buy = False
    for el in box.iter():
        if not isinstance(el.tag, str) or id(el) not in page.order or id(el) in page.hidden or id(el) in page.zone:
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
            if re.search(r"add to|warenkorb|carrinho|carrito|panier|koszyka|carrello|buy|comprar|kaufen", own, re.I):
                buy = True
            else:
                in_text = True
    if out:
        return None if in_text else Availability.OUT_OF_STOCK
    if in_text or buy:
        return Availability.IN_STOCK
    return None


def _buy_box(anchor: etree._Element) -> etree._Element:
    """The largest block around the title that still reads like one product (≤ 6000 chars)."""
    box = anchor
    for depth, ancestor in enumerate(anchor.iterancestors()):
        if depth >= 6 or ancestor.tag in ("body", "html") or _bounded_text(ancestor, 6000) is None:
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
    visible_h1 = [h for h in body.iter("h1") if not any(_is_hidden(a) for a in _ancestors(h, 30))][:20]
    if not visible_h1:
        return None
    words = _title_words(doc_title)
    anchor = max(visible_h1, key=lambda h: len(_title_words(h.text_content()) & words))
    box = _buy_box(anchor)
    page = _scan(tree, root=box, anchor=anchor)
    return visible_availability(page) if page is not None else None


_TEXT_WITH = etree.XPath("//body//text()[contains(., $needle)]", smart_strings=True)
_STRONG_NEG = frozenset({"old", "was", "list", "listprice", "compare", "compareat", "rrp", "msrp", "strike",
                         "strikethrough", "strikeout", "crossed", "crossedout", "original", "uvp",
                         "oldprice", "wasprice", "strikeprice", "linethrough", "nonsale", "prev", "previous"})


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
        block = _price_text(owner, 200)
        if shown(block, price) == "absent":
            continue
        found += 1
        struck = False
        for node in _ancestors(owner, 3):
            if not isinstance(node.tag, str):
                continue
            style = node.get("style") or ""
            if node.tag.lower() in _STRUCK_TAGS or ("line" in style and _STRIKE_STYLE.search(style)):
                struck = True
                break
            if _words(node) & _STRONG_NEG:
                struck = True
                break
        if not struck:
            return False
    return found > 0


# --- selectors ---------------------------------------------------------------------------


def _stable_classes(el: etree._Element) -> list[str]:
    classes = (el.get("class") or "").split()
    return [c for c in classes if re.fullmatch(r"[A-Za-z][\w-]{1,40}", c) and not _GENERATED.search(c.lower())]


def _stable_id(el: etree._Element) -> str | None:
    value = el.get("id")
    if value and re.fullmatch(r"[A-Za-z][\w-]{1,60}", value) and not re.search(r"\d{3,}|[a-f0-9]{8,}", value):
        return value
    return None


def _step(el: etree._Element) -> list[str]:
    """Ways to name one element, most stable first."""
    steps: list[str] = []
    ident = _stable_id(el)
    if ident:
        steps.append(f"#{ident}")
    tag = el.tag.lower() if isinstance(el.tag, str) else "*"
    itemprop = el.get("itemprop")
    if itemprop and re.fullmatch(r"[A-Za-z]+", itemprop):
        steps.append(f'{tag}[itemprop="{itemprop}"]')
    classes = _stable_classes(el)
    semantic = [c for c in classes if re.search(r"price|sale|amount|current|final|product|offer", c, re.I)]
    for chosen in (semantic[:1], semantic[:2], classes[:1], classes[:2]):
        if chosen:
            steps.append(tag + "".join(f".{c}" for c in chosen))
    for name in ("data-price", "data-testid", "data-qa", "data-test"):
        value = el.get(name)
        if value is not None and name != "data-price" and re.fullmatch(r"[\w-]{2,40}", value) and not _GENERATED.search(value):
            steps.append(f'{tag}[{name}="{value}"]')
    return list(dict.fromkeys(steps))


def derive_selector(tree: etree._Element, element: etree._Element, amount: Decimal) -> FieldRule | None:
    """A CSS selector for the element, built from ids, itemprop and semantic class names,
    that picks exactly the same amount on this page; None when no stable one exists."""
    attribute = None
    if element.get("content") and parse_amount(element.get("content")) == amount:
        attribute = "content"
    own = _step(element)
    tried = 0
    for step in own:
        for rule in _rules(step, attribute):
            tried += 1
            if _verifies(tree, rule, amount):
                return rule
    # Qualify with a stable ancestor: "#product-info .price".
    for ancestor in list(element.iterancestors())[:8]:
        if not isinstance(ancestor.tag, str) or ancestor.tag.lower() in ("html", "body"):
            break
        for outer in _step(ancestor)[:3]:
            for step in own[:4]:
                for rule in _rules(f"{outer} {step}", attribute):
                    tried += 1
                    if tried > 60:
                        return None
                    if _verifies(tree, rule, amount):
                        return rule
    return None


def _rules(css: str, attribute: str | None) -> list[FieldRule]:
    rules = [FieldRule(selector=css, kind="css", attribute=attribute)]
    if attribute:
        rules.append(FieldRule(selector=css, kind="css"))
    return rules


def _verifies(tree: etree._Element, rule: FieldRule, amount: Decimal) -> bool:
    try:
        value = apply_rule(tree, rule)
    except SelectorError:
        return False
    tokens = find_amounts(value, limit=3)
    if len({t.amount for t in tokens}) > 1:
        return False
    return parse_amount(value) == amount


def currency_from_symbol(symbol: str | None) -> str | None:
    return currency_of_symbol(symbol)

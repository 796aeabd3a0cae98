"""Layer 3: find the price from the page's DOM alone, and a stable selector for it.

Candidates are visible texts that read as a price with a currency (or `itemprop=price` /
price-named elements carrying a machine value). Each is scored by what the page says about
it — names like price/sale/current, nearness to the product title, emphasis — and dropped
when it is a "was"/list price, a saving, a per-unit price, a shipping threshold, an
instalment, or sits in a recommendation block, another product's card (blocks.py), a
header/footer or a hidden element. The winner must beat every other amount by a margin, and
not be one price of a quantity tier table; otherwise no price (precision first).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

from .availability import availability_near_title, visible_availability
from .blocks import quantity_tiers
from .currencies import currency_candidates
from .dom import (
    Page,
    ancestors,
    attr_text,
    bounded_text,
    page_scan,
    price_text,
    visible_bounded_text,
)
from .evidence import evidence_current
from .locators import derive_selector
from .parsing import (
    _CUR_SIGN,
    _CUR_WORD,
    AmountToken,
    currency_of_symbol,
    find_amounts,
    parse_amount,
)
from .patterns import FieldRule
from .result import Availability
from .scoring import Candidate, candidate_score
from .wording import SALE_MARKERS

__all__ = ["Candidate", "HeuristicResult", "availability_near_title", "derive_selector", "heuristic_price",
           "price_among", "price_in_range"]

MAX_CANDIDATES = 400
MIN_SCORE = 4.0
MARGIN = 2.0


_DIGIT = re.compile(r"\d")
_CURRENCY_HINT = re.compile(rf"{_CUR_WORD}|{_CUR_SIGN}")
# A printed range, "$38.17 - 48.27" included (a second amount without its currency).
_PRINTED_RANGE = re.compile(r"\d\s*(?:-|–|—|~|～|〜|\bto\b|\bbis\b)\s*\S{0,4}\s?\d", re.IGNORECASE)


@dataclass
class HeuristicResult:
    price: Decimal | None = None
    currency: str | None = None
    availability: Availability | None = None
    confidence: float = 0.0
    selector: FieldRule | None = None
    reason: str | None = None
    candidates: list[Candidate] = field(default_factory=list)


def _context(el: etree._Element, text: str, page: Page) -> tuple[str, str]:
    """Text just before and just after the candidate, within its price block."""
    before, after = "", ""
    node = el
    for _ in range(3):
        parent = node.getparent()
        if parent is None:
            break
        full = visible_bounded_text(parent, 400, page) if id(parent) not in page.hidden else ""
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


def _owner(el: etree._Element, page: Page) -> tuple[etree._Element, str] | None:
    """The smallest element around a digit-bearing text whose text holds a whole price."""
    node = el
    for _ in range(4):
        if node is None or id(node) in page.hidden:
            return None
        text = price_text(node, 120)
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


def _candidates(page: Page) -> list[Candidate]:
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
        if itemprop == "price" or (content and "price" in attr_text(el)):
            value = content or price_text(el)
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
    "descendant::*[@itemprop='price' or (@content and contains(translate(@class, 'PRICE', 'price'), 'price'))]"
)


def _candidate(el, token: AmountToken, el_text: str, page: Page, n_tokens: int) -> Candidate:
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
    candidate_score(c, page, before[-40:], after[:40])
    return c


def heuristic_price(tree: etree._Element, *, currency_hint: str | None = None) -> HeuristicResult:
    """The page's own price, judged from the DOM alone, with a selector that finds it again."""
    page = page_scan(tree)
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
    if quantity_tiers(best.element):
        # What the shopper pays depends on how many they buy ("1 - 14: $3.46 | 15 - 49: $2.49").
        result.reason = f"the page shows prices per quantity tier ({best.text[:40]!r})"
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
    if "from" in best.reasons and lists_option_prices(best.element):
        result.reason = f"the page shows a price range ({best.text[:30]!r} over a list of options)"
        return result
    declared = evidence_current().declared
    if best.symbol and declared and not set(declared) & set(currency_candidates(best.symbol)):
        # The page states one currency and prints its price in another: which is it?
        result.reason = f"the page declares {'/'.join(declared)} but shows the price as {best.text[:30]!r}"
        return result
    result.price = best.amount
    result.currency = best.currency or (currency_hint if best.symbol is None else None)
    # A symbol several currencies share ($, kr, ¥): the page's own currency decides, per CLDR.
    if best.symbol and currency_hint in currency_candidates(best.symbol):
        result.currency = currency_hint
    margin = best.score - rival.score if rival else best.score
    result.confidence = round(min(0.85, 0.5 + 0.05 * margin), 2)
    result.selector = derive_selector(tree, best.element, best.amount)
    return result


def price_among(found: HeuristicResult, values: Iterable[Decimal]) -> Candidate | None:
    """The page's price when structured data names a few possible ones (variants, sellers)
    and the page as a whole was undecided: the visible amounts that are among `values`,
    outside other products' blocks and links, must point to one of them."""
    if found.price is not None or "range" in (found.reason or ""):
        return None
    allowed = set(values)
    inside = [
        c for c in found.candidates
        if c.amount in allowed and c.rejected is None and not c.in_zone and "link" not in c.reasons
    ]
    inside.sort(key=lambda c: (-c.score, c.order))
    if not inside or inside[0].score < MIN_SCORE / 2 or "from" in inside[0].reasons:
        return None
    best = inside[0]
    rival = next((c for c in inside[1:] if c.amount != best.amount), None)
    if rival is not None and best.score - rival.score < MARGIN:
        return None
    return best


def price_in_range(found: HeuristicResult, *, low: Decimal, high: Decimal) -> tuple[Candidate | None, str | None]:
    """The price when structured data gives only a range (an AggregateOffer's low and high):
    the one amount the main product's buy box shows inside it, or None and why. Amounts in
    other products' blocks and links do not count; a printed range ("$89 - $129", a tier
    table), two different amounts, a "from" price, or a page price outside the range: none."""
    shown = [c for c in found.candidates if low <= c.amount <= high and not c.in_zone and "link" not in c.reasons]
    # A printed range is one even when its block was ruled out for another reason first.
    if any("range" in c.reasons or _PRINTED_RANGE.search(c.text) for c in shown):
        return None, "the page shows the range too"
    inside = [c for c in shown if c.rejected is None]
    if not inside:
        if found.price is not None:
            return None, f"the page shows {found.price}, outside it"
        return None, "the page shows no amount inside it"
    if len({c.amount for c in inside}) > 1:
        return None, "the page shows several amounts inside it"
    best = max(inside, key=lambda c: c.score)
    if "from" in best.reasons:
        return None, "the page shows a 'from' price"
    if found.price not in (None, best.amount) or best.score < MIN_SCORE / 2:
        return None, f"the page's own price is not the one inside it ({best.text[:30]!r})"
    return best, None


def lists_option_prices(element: etree._Element) -> bool:
    """True when a choice list (sizes, models) beside a "From" price prints several prices:
    "From" is then the lower bound of that list, and no option is chosen yet."""
    for node in list(ancestors(element, 6))[1:]:
        if bounded_text(node, 3000) is None:
            return False
        amounts = set()
        for option in node.iter("option", "label", "button"):
            amounts.update(t.amount for t in find_amounts(option.text_content()[:200], limit=2))
        if len(amounts) > 1:
            return True
    return False


def _sale_pair(a: Candidate, b: Candidate) -> Candidate | None:
    """Two prices side by side in one block with a sale marker: the lower is the current one."""
    parent_a = a.element.getparent()
    parent_b = b.element.getparent()
    if parent_a is None or parent_b is None:
        return None
    block = None
    for node in ancestors(parent_a, 3):
        if node is parent_b or any(node is x for x in ancestors(parent_b, 3)):
            block = node
            break
    if block is None:
        return None
    text = bounded_text(block, 300)
    if text is None:
        return None
    # The block may also print the saving itself ("Instant Savings: $200.00").
    amounts = {t.amount for t in find_amounts(text)} - {abs(a.amount - b.amount)}
    if amounts != {a.amount, b.amount}:
        return None
    if SALE_MARKERS.search(text):
        return a if a.amount < b.amount else b
    return None


def currency_from_symbol(symbol: str | None) -> str | None:
    return currency_of_symbol(symbol)

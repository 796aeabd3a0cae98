"""Reading saved pages shop by shop, as the tracker does when a store has several listings.

Each page is first read alone. Then, per shop with two or more pages, one pattern is learned
from the pages that answered (the tracker's own learning: heuristic selectors validated by
`spec_problems`, `learn.pattern_from_pages`), checked to read on each of those pages
the price it answered, and every page of the shop is read again with it. So a shop whose
structured data answers on one page can help its other pages. No database, no network.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..extraction import ExtractionResult, PatternSpec, apply_pattern, extract
from ..extraction.parsing import parse_html
from ..services import store_domain
from .learn import pattern_from_pages
from .llm import SamplePage


@dataclass
class ShopPage:
    """One saved page: its name in the output, its address when known, its bytes or text.
    `shop` is the store key (the tracker's for the address unless given)."""

    name: str
    html: str | bytes
    url: str | None = None
    shop: str | None = None

    def __post_init__(self) -> None:
        if self.shop is None and self.url:
            self.shop = store_domain(self.url) or None


@dataclass
class PageReading:
    page: ShopPage
    result: ExtractionResult
    mode: str = "single"  # "shop" when the shop's learned pattern read the page again
    pattern: PatternSpec | None = None
    notes: list[str] = field(default_factory=list)


def pages_extract_by_shop(*, pages: Sequence[ShopPage], use_heuristics: bool = True) -> list[PageReading]:
    """Every page read alone, then again with its shop's pattern where one validates. Pages
    without a shop, and shops with one page, keep their single-page reading. Safe to run twice:
    pure, same pages in, same readings out."""
    readings = [PageReading(page, extract(page.html, url=page.url, use_heuristics=use_heuristics)) for page in pages]
    shops: dict[str, list[PageReading]] = defaultdict(list)
    for reading in readings:
        if reading.page.shop:
            shops[reading.page.shop].append(reading)
        else:
            reading.notes.append("no address: read alone")
    for group in shops.values():
        if len(group) < 2:
            group[0].notes.append("the only page of its shop: read alone")
            continue
        spec, problem = _shop_pattern(group)
        if spec is None:
            for reading in group:
                reading.notes.append(problem)
            continue
        for reading in group:
            reading.result = extract(reading.page.html, url=reading.page.url, pattern=spec, use_heuristics=use_heuristics)
            reading.mode = "shop"
            reading.pattern = spec
    return readings


def _shop_pattern(group: list[PageReading]) -> tuple[PatternSpec | None, str]:
    """The pattern learned from the pages of one shop that answered alone, or None and why."""
    answered = [r for r in group if r.result.price is not None and not r.result.flagged]
    if not answered:
        return None, "no page of its shop answered alone: no pattern to learn"
    samples = [SamplePage(url=r.page.url or r.page.name, html=r.page.html) for r in answered]
    spec, problems = pattern_from_pages(pages=samples)
    if spec is None:
        return None, "no pattern validates on its shop's pages" + (f": {problems[0]}" if problems else "")
    # The tracker checks a pattern against structured data; here each page's own answer is
    # known too, and a pattern that reads another amount on any of them is not believed.
    for reading in answered:
        tree = parse_html(reading.page.html)
        read = apply_pattern(tree, spec).price if tree is not None else None
        if read != reading.result.price:
            return None, (f"the learned pattern {spec.price.selector!r} reads {read} on {reading.page.name}, "
                          f"which answered {reading.result.price} alone")
    return spec, ""

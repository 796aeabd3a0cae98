"""A small test shop's product pages, most WITHOUT structured data (so only a pattern finds
the price). Theme "v2" is a redesign: same products, new markup and class names."""

from __future__ import annotations

import json

from tracker.extraction.patterns import FieldRule, PatternSpec
from tracker.learning.llm import SamplePage

PRODUCTS = [
    ("Alder Desk Chair", "149.00", "199.00"),
    ("Birch Bookshelf", "89.50", "120.00"),
    ("Cedar Side Table", "45.99", "59.99"),
]


def shop_page(index: int, *, theme: str = "v1", structured: bool = False, price: str | None = None) -> str:
    name, current, was = PRODUCTS[index]
    current = price or current
    recs = "".join(
        f'<li class="rec"><a href="/p/{i}">{n}</a> <span class="rec-price">${p}</span></li>'
        for i, (n, p, _) in enumerate(PRODUCTS)
        if i != index
    )
    head = ""
    if structured:
        head = '<script type="application/ld+json">' + json.dumps(
            {"@context": "https://schema.org", "@type": "Product", "name": name,
             "offers": {"@type": "Offer", "price": current, "priceCurrency": "USD"}}
        ) + "</script>"
    if theme == "v1":
        main = (
            f'<div class="product"><h1 class="product-name">{name}</h1>'
            f'<div class="price-box"><span class="label">Was</span> <del class="was">${was}</del> '
            f'<span class="price-now">${current}</span></div>'
            f'<p class="ship">Free shipping over $50</p></div>'
        )
    else:
        main = (
            f'<section class="pdp"><h1 class="pdp__title">{name}</h1>'
            f'<div class="pdp__pricing"><s class="pdp__strike">${was}</s> '
            f'<strong class="pdp__amount">${current}</strong></div>'
            f'<p class="pdp__note">Pay in 4 x ${float(current) / 4:.2f}</p></section>'
        )
    return (
        f"<!doctype html><html><head><title>{name} | Test Shop</title>{head}"
        "<script>var tracking = 1;</script><style>.x{color:red}</style></head>"
        f'<body><header><nav><a href="/">Home</a></nav></header>{main}'
        f'<section class="recommendations"><h2>You may also like</h2><ul>{recs}</ul></section>'
        "<footer>Test Shop &copy; 2026 <!-- a comment --></footer></body></html>"
    )


def spec(selector: str, kind: str = "css", attribute: str | None = None) -> PatternSpec:
    """A pattern that reads only the price, with this selector."""
    return PatternSpec(price=FieldRule(selector=selector, kind=kind, attribute=attribute))


def pages(theme: str = "v1", count: int = 3) -> list[SamplePage]:
    """The test shop's product pages of one design, as samples to validate a pattern on."""
    return [SamplePage(f"https://shop.test/p/{i}", shop_page(i, theme=theme)) for i in range(count)]

"""The demo shop's HTML: product pages in several markups, in two themes ("v1" and "v2").

Each product's `template` says how the page publishes its price (see `TEMPLATES`). The theme
changes only the visible markup and its classes (a redesign), never the structured data, so
a learned CSS pattern breaks on "v2" while structured extraction still reads the same price.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape

from .catalogue import PRODUCTS, DemoProduct, in_stock_at, price_at, was_price_at

TEMPLATES = {
    "jsonld": "JSON-LD Product with one Offer",
    "graph": "JSON-LD @graph (Organization, WebSite, BreadcrumbList, Product)",
    "microdata": "schema.org microdata, itemprop=price with a content attribute",
    "opengraph": "OpenGraph product:price:* meta only",
    "aggregate": "JSON-LD AggregateOffer over several sellers (the lowest is the price)",
    "out_of_stock": "JSON-LD Offer, availability OutOfStock",
    "euro": "microdata with the price as text in euro format (1.299,00 €)",
    "zloty": "JSON-LD with the price as a string in zloty format (12,50 zł)",
    "was_price": "JSON-LD Offer with a StrikethroughPrice, a crossed-out was price beside it",
    "plain": "no structured data: the price is only in the visible HTML",
}
THEMES = ("v1", "v2")
SCHEMA = "https://schema.org/"


def money(amount: Decimal, currency: str) -> str:
    """The price as the shop shows it to people."""
    if currency == "EUR":
        whole, cents = f"{amount:,.2f}".split(".")
        return f"{whole.replace(',', '.')},{cents} €"
    if currency == "PLN":
        whole, cents = f"{amount:,.2f}".split(".")
        return f"{whole.replace(',', ' ')},{cents} zł"
    symbol = {"USD": "$", "GBP": "£"}.get(currency, currency + " ")
    return f"{symbol}{amount:,.2f}"


@dataclass(frozen=True)
class PageContext:
    product: DemoProduct
    base_url: str
    now: datetime
    theme: str = "v1"
    reviews: int = 3

    @property
    def price(self) -> Decimal:
        return price_at(self.product.slug, self.now)

    @property
    def in_stock(self) -> bool:
        return in_stock_at(self.product.slug, self.now)

    @property
    def url(self) -> str:
        return f"{self.base_url}/product/{self.product.slug}"

    @property
    def image(self) -> str:
        return f"{self.base_url}/img/{self.product.slug}.svg"

    @property
    def availability(self) -> str:
        return SCHEMA + ("InStock" if self.in_stock else "OutOfStock")


# --- Structured data --------------------------------------------------------------------


def _ld(data: object) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>'


def _offer(ctx: PageContext, *, price: object = None) -> dict:
    return {
        "@type": "Offer",
        "url": ctx.url,
        "price": str(ctx.price) if price is None else price,
        "priceCurrency": ctx.product.currency,
        "availability": ctx.availability,
        "itemCondition": SCHEMA + "NewCondition",
        "seller": {"@type": "Organization", "name": "Demo Shop"},
    }


def _product_ld(ctx: PageContext, offers: object) -> dict:
    p = ctx.product
    return {
        "@type": "Product",
        "name": p.name,
        "sku": p.sku,
        "image": [ctx.image],
        "description": p.description,
        "brand": {"@type": "Brand", "name": p.brand},
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": "4.4", "reviewCount": ctx.reviews},
        "offers": offers,
    }


def _breadcrumb_ld(ctx: PageContext) -> dict:
    items = [("Home", ctx.base_url + "/"), (ctx.product.category, ctx.base_url + "/"), (ctx.product.name, ctx.url)]
    return {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": name, "item": url}
            for i, (name, url) in enumerate(items, start=1)
        ],
    }


def _sellers(ctx: PageContext) -> list[tuple[str, Decimal, bool]]:
    price = ctx.price
    return [
        ("Demo Shop", price, True),
        ("Gadget Outlet", (price * Decimal("1.08")).quantize(Decimal("0.01")), True),
        ("Marketplace Bob", (price * Decimal("1.15")).quantize(Decimal("0.01")), False),
    ]


def structured_data(ctx: PageContext) -> str:
    """The `<head>` markup that publishes the price, per template."""
    p, template = ctx.product, ctx.product.template
    ctx_ld = {"@context": "https://schema.org"}
    org = {"@type": "Organization", "@id": ctx.base_url + "/#org", "name": "Demo Shop", "url": ctx.base_url}
    if template in ("jsonld", "out_of_stock"):
        return _ld({**ctx_ld, **_product_ld(ctx, _offer(ctx))}) + _ld({**ctx_ld, **_breadcrumb_ld(ctx)})
    if template == "graph":
        graph = [
            org,
            {"@type": "WebSite", "@id": ctx.base_url + "/#website", "url": ctx.base_url, "publisher": {"@id": org["@id"]}},
            {"@type": "WebPage", "@id": ctx.url, "url": ctx.url, "name": p.name},
            _breadcrumb_ld(ctx),
            {**_product_ld(ctx, _offer(ctx)), "@id": ctx.url + "#product", "mainEntityOfPage": {"@id": ctx.url}},
        ]
        return _ld({**ctx_ld, "@graph": graph})
    if template == "aggregate":
        sellers = _sellers(ctx)
        offers = {
            "@type": "AggregateOffer",
            "priceCurrency": p.currency,
            "lowPrice": str(min(s[1] for s in sellers)),
            "highPrice": str(max(s[1] for s in sellers)),
            "offerCount": len(sellers),
            "offers": [
                {
                    "@type": "Offer",
                    "price": str(price),
                    "priceCurrency": p.currency,
                    "availability": SCHEMA + ("InStock" if stock else "OutOfStock"),
                    "seller": {"@type": "Organization", "name": name},
                }
                for name, price, stock in sellers
            ],
        }
        return _ld({**ctx_ld, **_product_ld(ctx, offers)})
    if template == "zloty":
        return _ld({**ctx_ld, **_product_ld(ctx, _offer(ctx, price=money(ctx.price, "PLN").replace(" zł", "")))})
    if template == "was_price":
        offer = _offer(ctx)
        offer["priceSpecification"] = {
            "@type": "UnitPriceSpecification",
            "priceType": SCHEMA + "StrikethroughPrice",
            "price": str(was_price_at(p.slug, ctx.now)),
            "priceCurrency": p.currency,
        }
        return _ld({**ctx_ld, **_product_ld(ctx, offer)})
    if template == "opengraph":
        meta = {
            "og:type": "product",
            "og:title": p.name,
            "og:url": ctx.url,
            "og:image": ctx.image,
            "og:description": p.description,
            "product:brand": p.brand,
            "product:price:amount": str(ctx.price),
            "product:price:currency": p.currency,
            "product:availability": "in stock" if ctx.in_stock else "out of stock",
        }
        return "".join(f'<meta property="{k}" content="{escape(v)}">' for k, v in meta.items())
    return ""  # microdata and euro carry it in the body; plain has none


# --- Visible page -----------------------------------------------------------------------

CLASSES = {
    # role: (v1, v2)
    "header": ("site-header", "hdr hdr--sticky"),
    "nav": ("main-nav", "hdr__menu"),
    "crumbs": ("breadcrumb", "crumbs"),
    "main": ("product-page", "pdp"),
    "gallery": ("gallery", "pdp__media"),
    "title": ("product-title", "pdp__name"),
    "buybox": ("price-box", "pdp__buy"),
    "price": ("price-current", "pdp-price__value"),
    "was": ("price-was", "pdp-price__strike"),
    "stock": ("stock", "pdp__availability"),
    "desc": ("product-description", "pdp__details"),
    "reviews": ("reviews", "pdp__reviews"),
    "recs": ("recommendations", "carousel"),
    "rec_price": ("price", "tile__amount"),
    "footer": ("site-footer", "ftr"),
}


def _c(ctx: PageContext, role: str) -> str:
    return CLASSES[role][1 if ctx.theme == "v2" else 0]


def _price_markup(ctx: PageContext) -> str:
    p, shown = ctx.product, money(ctx.price, ctx.product.currency)
    if p.template == "microdata":
        return (
            f'<meta itemprop="priceCurrency" content="{p.currency}">'
            f'<span class="{_c(ctx, "price")}" itemprop="price" content="{ctx.price}">{escape(shown)}</span>'
            f'<link itemprop="availability" href="{ctx.availability}">'
        )
    if p.template == "euro":
        return (
            f'<meta itemprop="priceCurrency" content="EUR">'
            f'<span class="{_c(ctx, "price")}" itemprop="price">{escape(shown)}</span>'
            f'<link itemprop="availability" href="{ctx.availability}">'
        )
    if p.template == "aggregate":
        return f'<span class="from">from</span> <span class="{_c(ctx, "price")}">{escape(shown)}</span>'
    if p.template == "was_price":
        was = was_price_at(p.slug, ctx.now)
        off = int(round((1 - ctx.price / was) * 100))
        return (
            f'<span class="label">Was</span> <del class="{_c(ctx, "was")}">{escape(money(was, p.currency))}</del> '
            f'<span class="{_c(ctx, "price")}">{escape(shown)}</span> <span class="badge">-{off}%</span>'
        )
    return f'<span class="{_c(ctx, "price")}">{escape(shown)}</span>'


def _sellers_table(ctx: PageContext) -> str:
    if ctx.product.template != "aggregate":
        return ""
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(money(price, ctx.product.currency))}</td>"
        f"<td>{'In stock' if stock else 'Sold out'}</td></tr>"
        for name, price, stock in _sellers(ctx)
    )
    return f'<table class="sellers"><caption>3 offers</caption><tr><th>Seller</th><th>Price</th><th>Stock</th></tr>{rows}</table>'


_REVIEW_TEXTS = [
    ("Sam", 5, "Exactly as described, arrived in two days. Worth every penny."),
    ("Priya", 4, "Good value. I paid $20 less last month, but still happy."),
    ("Jonas", 4, "Solid build. Compared with the 149,00 € model this one is better."),
    ("Ola", 3, "Fine, though the box was dented. Shipping cost £4.99 extra."),
    ("Lee", 5, "Second one I bought. The price was lower at Christmas."),
]


def _reviews(ctx: PageContext) -> str:
    items = []
    for i in range(ctx.reviews):
        who, stars, text = _REVIEW_TEXTS[i % len(_REVIEW_TEXTS)]
        items.append(
            f'<article class="review"><header><strong>{who}</strong> '
            f'<span class="stars" aria-label="{stars} of 5">{"★" * stars}{"☆" * (5 - stars)}</span></header>'
            f"<p>{escape(text)}</p></article>"
        )
    return f'<section class="{_c(ctx, "reviews")}"><h2>Reviews ({ctx.reviews})</h2>{"".join(items)}</section>'


def _recommendations(ctx: PageContext) -> str:
    others = [p for p in PRODUCTS if p.slug != ctx.product.slug][:4]
    tiles = "".join(
        f'<li class="tile"><a href="/product/{o.slug}"><img src="/img/{o.slug}.svg" alt="" width="120" height="120">'
        f'<span class="tile__name">{escape(o.name)}</span></a>'
        f'<span class="{_c(ctx, "rec_price")}">{escape(money(price_at(o.slug, ctx.now), o.currency))}</span></li>'
        for o in others
    )
    return f'<section class="{_c(ctx, "recs")}"><h2>Customers also bought</h2><ul>{tiles}</ul></section>'


def _stock_markup(ctx: PageContext) -> str:
    if ctx.in_stock:
        return f'<p class="{_c(ctx, "stock")} in-stock">In stock, ships in 1-2 days</p><button type="button">Add to basket</button>'
    return f'<p class="{_c(ctx, "stock")} out-of-stock">Sold out</p><button type="button" disabled>Notify me</button>'


def _layout(*, ctx_theme: str, title: str, head: str, body: str, lang: str = "en") -> str:
    v2 = ctx_theme == "v2"
    header_class, nav_class, footer_class = (
        (CLASSES[r][1 if v2 else 0]) for r in ("header", "nav", "footer")
    )
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} | Demo Shop</title>
{head}
<style>body{{font-family:sans-serif;margin:0}}.{header_class.split()[0]}{{background:#123;color:#fff;padding:8px}}</style>
</head>
<body{' class="theme-v2"' if v2 else ''}>
<header class="{header_class}"><a class="logo" href="/">Demo Shop</a>
<nav class="{nav_class}"><a href="/">All products</a> <a href="/info/shipping">Shipping</a> <a href="/downloads/price-list.pdf">Price list (PDF)</a></nav>
<form class="search" action="/" role="search"><input name="q" placeholder="Search"></form></header>
{body}
<footer class="{footer_class}"><p>Demo Shop is a local test shop for PriceTracker. Free shipping over $50.</p>
<p>&copy; 2026 Demo Shop</p></footer>
</body>
</html>
"""


def product_page(ctx: PageContext) -> str:
    p = ctx.product
    itemscope = (
        ' itemscope itemtype="https://schema.org/Product"' if p.template in ("microdata", "euro") else ""
    )
    offer_scope = (
        ' itemprop="offers" itemscope itemtype="https://schema.org/Offer"' if itemscope else ""
    )
    name_prop = ' itemprop="name"' if itemscope else ""
    image_prop = ' itemprop="image"' if itemscope else ""
    desc_prop = ' itemprop="description"' if itemscope else ""
    features = "".join(f"<li>{escape(f)}</li>" for f in p.features)
    body = f"""<nav class="{_c(ctx, "crumbs")}" aria-label="Breadcrumb"><ol><li><a href="/">Home</a></li><li><a href="/">{escape(p.category)}</a></li><li aria-current="page">{escape(p.name)}</li></ol></nav>
<main class="{_c(ctx, "main")}"{itemscope}>
<div class="{_c(ctx, "gallery")}"><img{image_prop} src="{ctx.image}" alt="{escape(p.name)}" width="480" height="480">
<ul class="thumbs"><li><img src="{ctx.image}?view=2" alt="" width="64" height="64"></li><li><img src="{ctx.image}?view=3" alt="" width="64" height="64"></li></ul></div>
<div class="details">
<p class="brand">{escape(p.brand)}</p>
<h1 class="{_c(ctx, "title")}"{name_prop}>{escape(p.name)}</h1>
<p class="sku">SKU {escape(p.sku)}</p>
<div class="{_c(ctx, "buybox")}"{offer_scope}>{_price_markup(ctx)}
{_stock_markup(ctx)}</div>
{_sellers_table(ctx)}
<div class="{_c(ctx, "desc")}"><h2>Description</h2><p{desc_prop}>{escape(p.description)}</p><ul class="features">{features}</ul></div>
</div>
</main>
{_reviews(ctx)}
{_recommendations(ctx)}"""
    lang = {"EUR": "de", "PLN": "pl"}.get(p.currency, "en")
    return _layout(ctx_theme=ctx.theme, title=p.name, head=structured_data(ctx), body=body, lang=lang)


def index_page(*, base_url: str, now: datetime, theme: str = "v1") -> str:
    rows = "".join(
        f'<li class="product-card"><a href="/product/{p.slug}">{escape(p.name)}</a> '
        f'<span class="card-price">{escape(money(price_at(p.slug, now), p.currency))}</span> '
        f'<small>({escape(TEMPLATES[p.template])})</small></li>'
        for p in PRODUCTS
    )
    body = f'<main><h1>All products</h1><ul class="product-grid">{rows}</ul></main>'
    return _layout(ctx_theme=theme, title="All products", head="", body=body)


def info_page(*, theme: str = "v1") -> str:
    body = (
        "<main><h1>Shipping and returns</h1><p>We ship within two working days. "
        "Returns are free within 30 days.</p></main>"
    )
    return _layout(ctx_theme=theme, title="Shipping", head="", body=body)


def not_found_page(*, theme: str = "v1") -> str:
    body = '<main><h1>Page not found</h1><p><a href="/">Back to all products</a></p></main>'
    return _layout(ctx_theme=theme, title="Not found", head="", body=body)


def product_image(product: DemoProduct) -> str:
    hue = sum(product.slug.encode()) % 360
    initials = "".join(word[0] for word in product.name.split()[:2]).upper()
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="480" viewBox="0 0 480 480">'
        f'<rect width="480" height="480" fill="hsl({hue},55%,60%)"/>'
        f'<text x="240" y="270" font-size="120" text-anchor="middle" fill="#fff" font-family="sans-serif">{escape(initials)}</text>'
        "</svg>"
    )


# A minimal, valid one-page PDF: the "not a web page" case.
PRICE_LIST_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

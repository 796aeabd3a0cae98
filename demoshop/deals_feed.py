"""The demo shop's deal feed: RSS 2.0 of its current offers, as a deal site would publish them.

Besides the shop's own offer of each product, the feed carries what makes a deal scout's life
hard, so the scout has something real to judge within minutes of `make run`:
- the same offer posted again by "the forum" (the same link with other tracking parameters);
- the product at two other sellers (at and a little above the usual price) and a used one;
- for the first products, a scam far under the price and an accessory that names the product.

Pure: (base URL, time) in, XML out. Prices move with the shop's own (`catalogue.price_at`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

from .catalogue import PRODUCTS, DemoProduct, in_stock_at, price_at
from .pages import money

# Sellers besides the shop, and their price as a share of the product's usual (base) price.
OTHER_SELLERS = (("seller-a", "Other Shop A", Decimal("1.00")), ("seller-b", "Other Shop B", Decimal("1.05")))
USED_SHARE = Decimal("0.75")
SCAM_SHARE = Decimal("0.12")
POISONED = 3  # the first few products also get a scam and an accessory


def _at(product: DemoProduct, share: Decimal) -> Decimal:
    return (product.base_price * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _item(*, guid: str, title: str, link: str, price: Decimal, product: DemoProduct, condition: str = "new", in_stock: bool = True, seller: str = "") -> str:
    description = f"<p>{escape(seller or 'Demo Shop')}: <strong>{escape(money(price, product.currency))}</strong></p>"
    return (
        "<item>"
        f"<title>{escape(title)}</title>"
        f"<link>{escape(link)}</link>"
        f'<guid isPermaLink="false">{escape(guid)}</guid>'
        f"<description>{escape(description)}</description>"
        f"<g:price>{price} {product.currency}</g:price>"
        f"<g:condition>{condition}</g:condition>"
        f"<g:availability>{'in_stock' if in_stock else 'out_of_stock'}</g:availability>"
        + (f"<g:brand>{escape(seller)}</g:brand>" if seller else "")
        + "</item>"
    )


def deals_feed(*, base_url: str, now: datetime) -> str:
    items = []
    for index, product in enumerate(PRODUCTS):
        page = f"{base_url}/product/{product.slug}"
        price = price_at(product.slug, now)
        stock = in_stock_at(product.slug, now)
        shown = money(price, product.currency)
        items.append(_item(guid=f"shop-{product.slug}", title=f"{product.name} – {shown} at Demo Shop",
                           link=f"{page}?utm_source=demo-deals&utm_medium=rss", price=price, product=product, in_stock=stock))
        # The same offer, reposted: another guid and tracking, the same page.
        items.append(_item(guid=f"repost-{product.slug}", title=f"{product.name} for {shown} (spotted by the forum)",
                           link=f"{page}?ref=forum&utm_campaign=hot", price=price, product=product, in_stock=stock))
        for key, seller, share in OTHER_SELLERS:
            items.append(_item(guid=f"{key}-{product.slug}", title=f"{product.name} at {seller}",
                               link=f"{page}?seller={key}", price=_at(product, share), product=product, seller=seller))
        items.append(_item(guid=f"used-{product.slug}", title=f"{product.name} (used, good condition)",
                           link=f"{page}?seller=used", price=_at(product, USED_SHARE), product=product, condition="used",
                           seller="A private seller"))
        if index < POISONED:
            items.append(_item(guid=f"scam-{product.slug}", title=f"{product.name} NEW SEALED – {money(_at(product, SCAM_SHARE), product.currency)}",
                               link=f"{page}?seller=too-good-to-be-true", price=_at(product, SCAM_SHARE), product=product,
                               seller="new_seller_2026"))
            items.append(_item(guid=f"accessory-{product.slug}", title=f"Cleaning kit for {product.name}",
                               link=f"{page}?seller=accessories", price=Decimal("9.99"), product=product, seller="Accessory World"))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">'
        "<channel>"
        "<title>Demo Shop deals</title>"
        f"<link>{escape(base_url)}/</link>"
        "<description>Current offers of the demo shop, with reposts, other sellers and a few suspicious ones</description>"
        f"<lastBuildDate>{now.strftime('%a, %d %b %Y %H:%M:%S +0000')}</lastBuildDate>"
        + "".join(items)
        + "</channel></rss>"
    )



"""History and products out of PriceTracker: CSV and JSON, built from selectors.price_history
so they read history the same way the API does."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from .models import PricePoint, Product

HISTORY_COLUMNS = ("product_id", "product", "listing_id", "store", "url", "checked_at", "price", "currency", "in_stock")


def history_record(point: PricePoint) -> dict:
    """One price point, JSON-ready (prices as strings: decimals stay exact)."""
    return {
        "product_id": point.listing.product_id,
        "product": point.listing.product.name,
        "listing_id": point.listing_id,
        "store": str(point.listing.store),
        "url": point.listing.url,
        "checked_at": point.checked_at.isoformat(),
        "price": str(point.price),
        "currency": point.currency,
        "in_stock": point.in_stock,
    }


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: a product name from a shop
    # page must not run as one when the export is opened.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def history_csv_lines(points: Iterable[PricePoint]) -> Iterator[str]:
    """The CSV text of a history, line by line (stream it: an account's history can be long)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HISTORY_COLUMNS)
    for point in points:
        record = history_record(point)
        writer.writerow([_cell(record[name]) if name in ("product", "store", "url") else record[name] for name in HISTORY_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def products_export(*, owner) -> list[dict]:
    """A person's products and their listings, to import elsewhere (no history, no secrets)."""
    products = Product.objects.filter(owner=owner).prefetch_related("listings").order_by("created_at", "pk")
    return [
        {
            "id": product.pk,
            "name": product.name,
            "listings": [
                {"url": listing.url, "priority": listing.priority, "paused": listing.paused}
                for listing in product.listings.all()
            ],
        }
        for product in products
    ]


def filename_stamp(now: datetime) -> str:
    return now.strftime("%Y%m%d-%H%M")

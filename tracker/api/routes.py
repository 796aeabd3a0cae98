"""API endpoints for products, listings, price history and imports. Thin, like the views:
load through an owner-scoped selector (another person's id answers 404), call one service."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router
from ninja.errors import HttpError

from .. import selectors, services, tasks
from ..adding import url_track
from ..exports import history_csv_lines, history_record
from ..imports import ImportRefused, import_create, import_status
from ..models import Listing, Product
from .schemas import (
    ERRORS,
    AddRefused,
    Error,
    HistoryPage,
    Id,
    ImportIn,
    ImportOut,
    ListingList,
    ListingOut,
    ListingPatch,
    Moment,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
)

router = Router(tags=["products"])

Limit = Query(50, ge=1, le=500, description="Items per page.")
Offset = Query(0, ge=0, le=10**9, description="Items to skip.")
Since = Query(None, alias="from", description="Only prices checked at or after this time (ISO 8601).")
Until = Query(None, alias="to", description="Only prices checked at or before this time (ISO 8601).")
CSV_RESPONSE = {
    "responses": {200: {"description": "CSV, one price point a row", "content": {"text/csv": {"schema": {"type": "string"}}}}}
}


def listing_out(listing: Listing) -> dict:
    return {
        "id": listing.pk,
        "product_id": listing.product_id,
        "url": listing.url,
        "store": str(listing.store),
        "priority": listing.priority,
        "paused": listing.paused,
        "status": listing.status,
        "status_reason": listing.status_reason,
        "title": listing.title,
        "price": listing.last_price,
        "currency": listing.currency,
        "in_stock": listing.in_stock,
        "last_checked_at": listing.last_checked_at,
        "next_check_at": listing.next_check_at,
        "created_at": listing.created_at,
    }


def products_out(*, owner, ids: list[int]) -> list[dict]:
    rows = {row.product.pk: row for row in selectors.product_summaries(owner=owner, product_ids=ids)}
    out = []
    for pk in ids:
        row = rows[pk]
        out.append(
            {
                "id": row.product.pk,
                "name": row.product.name,
                "created_at": row.product.created_at,
                "paused": bool(row.listings) and all(item.paused for item in row.listings),
                "price": row.price,
                "currency": row.currency,
                "status": row.status,
                "listings": [listing_out(item) for item in row.listings],
            }
        )
    return out


def _product(request: HttpRequest, product_id: int) -> Product:
    return selectors.product_get(owner=request.user, product_id=product_id)


@router.get("/products", response={200: ProductPage, ERRORS: Error}, summary="List your products")
def products_list(request: HttpRequest, limit: int = Limit, offset: int = Offset):
    ids = selectors.products_for(owner=request.user).values_list("pk", flat=True)
    page = list(ids[offset : offset + limit])
    return {"items": products_out(owner=request.user, ids=page), "count": ids.count()}


@router.post(
    "/products",
    response={201: ProductOut, 400: AddRefused, ERRORS - {400}: Error},
    summary="Track a URL as a new product",
    description="The page is checked at once, before it is kept: the answer holds the price found. A page "
    "whose first check finds no price is refused (400) with the reason, unless `keep` is true.",
)
def products_add(request: HttpRequest, payload: ProductIn):
    found = url_track(
        owner=request.user, url=payload.url, name=payload.name, priority=payload.priority, keep=payload.keep
    )
    if found.outcome == "duplicate":
        raise HttpError(409, f"You already track this page ({found.message}), product {found.listing.product_id}.")
    if found.outcome == "refused":
        return 400, {"message": found.message, "detail": found.detail, "keepable": found.keepable}
    return 201, products_out(owner=request.user, ids=[found.listing.product_id])[0]


@router.get("/products/{product_id}", response={200: ProductOut, ERRORS: Error}, summary="One product")
def products_read(request: HttpRequest, product_id: Id):
    product = _product(request, product_id)
    return products_out(owner=request.user, ids=[product.pk])[0]


@router.patch("/products/{product_id}", response={200: ProductOut, ERRORS: Error}, summary="Rename or pause a product")
def products_update(request: HttpRequest, product_id: Id, payload: ProductPatch):
    product = _product(request, product_id)
    try:
        if payload.name is not None:
            services.product_rename(product=product, name=payload.name)
        if payload.paused is not None:
            services.product_pause(product=product, paused=payload.paused)
    except services.TrackingError as exc:
        raise HttpError(400, str(exc)) from exc
    return products_out(owner=request.user, ids=[product.pk])[0]


@router.delete("/products/{product_id}", response={204: None, ERRORS: Error}, summary="Stop tracking a product")
def products_delete(request: HttpRequest, product_id: Id):
    services.product_delete(product=_product(request, product_id))
    return 204, None


def _history(request: HttpRequest, product_id: int | None, since: datetime | None, until: datetime | None):
    if product_id is not None:
        _product(request, product_id)
    return selectors.price_history(owner=request.user, product_id=product_id, since=since, until=until)


@router.get("/products/{product_id}/history", response={200: HistoryPage, ERRORS: Error}, summary="A product's price history")
def products_history(
    request: HttpRequest,
    product_id: Id,
    since: Moment | None = Since,
    until: Moment | None = Until,
    limit: int = Limit,
    offset: int = Offset,
):
    points = _history(request, product_id, since, until)
    return {"items": [history_record(point) for point in points[offset : offset + limit]], "count": points.count()}


def _csv(points, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(history_csv_lines(points.iterator()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get(
    "/products/{product_id}/history.csv",
    response={ERRORS: Error},
    openapi_extra=CSV_RESPONSE,
    summary="A product's price history as CSV",
)
def products_history_csv(
    request: HttpRequest,
    product_id: Id,
    since: Moment | None = Since,
    until: Moment | None = Until,
):
    return _csv(_history(request, product_id, since, until), f"product-{product_id}-history.csv")


@router.get("/history", response={200: HistoryPage, ERRORS: Error}, summary="All your price history")
def history_list(
    request: HttpRequest,
    since: Moment | None = Since,
    until: Moment | None = Until,
    limit: int = Limit,
    offset: int = Offset,
):
    points = _history(request, None, since, until)
    return {"items": [history_record(point) for point in points[offset : offset + limit]], "count": points.count()}


@router.get("/history.csv", response={ERRORS: Error}, openapi_extra=CSV_RESPONSE, summary="All your price history as CSV")
def history_csv(
    request: HttpRequest,
    since: Moment | None = Since,
    until: Moment | None = Until,
):
    return _csv(_history(request, None, since, until), "history.csv")


@router.get("/listings", response={200: ListingList, ERRORS: Error}, tags=["listings"], summary="Your listings")
def listings_list(request: HttpRequest, product_id: Id | None = None, limit: int = Limit, offset: int = Offset):
    listings = selectors.listings_for(owner=request.user, product_id=product_id)
    return {"items": [listing_out(item) for item in listings[offset : offset + limit]], "count": listings.count()}


@router.get("/listings/{listing_id}", response={200: ListingOut, ERRORS: Error}, tags=["listings"], summary="One listing")
def listings_read(request: HttpRequest, listing_id: Id):
    return listing_out(selectors.listing_get(owner=request.user, listing_id=listing_id))


@router.patch(
    "/listings/{listing_id}", response={200: ListingOut, ERRORS: Error}, tags=["listings"], summary="Change priority or pause"
)
def listings_update(request: HttpRequest, listing_id: Id, payload: ListingPatch):
    listing = selectors.listing_get(owner=request.user, listing_id=listing_id)
    if payload.priority is not None:
        services.listing_priority_set(listing=listing, priority=payload.priority)
    if payload.paused is not None:
        services.listing_pause(listing=listing, paused=payload.paused)
    return listing_out(listing)


@router.delete("/listings/{listing_id}", response={204: None, ERRORS: Error}, tags=["listings"], summary="Stop tracking one store")
def listings_delete(request: HttpRequest, listing_id: Id):
    services.listing_delete(listing=selectors.listing_get(owner=request.user, listing_id=listing_id))
    return 204, None


@router.post("/imports", response={202: ImportOut, ERRORS: Error}, tags=["imports"], summary="Import URLs or CSV rows")
def imports_create(request: HttpRequest, payload: ImportIn):
    try:
        job = import_create(owner=request.user, text=payload.text)
    except ImportRefused as exc:
        raise HttpError(400, str(exc)) from exc
    tasks.import_enqueue(job_id=job.pk)
    return 202, import_status(job=job)


@router.get("/imports/{import_id}", response={200: ImportOut, ERRORS: Error}, tags=["imports"], summary="An import's progress")
def imports_read(request: HttpRequest, import_id: Id):
    return import_status(job=selectors.import_get(owner=request.user, import_id=import_id))

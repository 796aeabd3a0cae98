"""The shapes the API answers and accepts (pydantic, through django-ninja), shared by routers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from ..models import Priority

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
PriorityName = Literal[tuple(Priority.values)]  # type: ignore[valid-type]


class Error(Schema):
    message: str
    errors: list[dict] | None = None


class ListingOut(Schema):
    id: int
    product_id: int
    url: str
    store: str
    priority: str
    paused: bool
    status: str
    status_reason: str
    title: str
    price: Decimal | None = Field(None, description="The latest trusted price.")
    currency: str
    in_stock: bool | None
    last_checked_at: datetime | None
    next_check_at: datetime | None
    created_at: datetime


class ProductOut(Schema):
    id: int
    name: str
    created_at: datetime
    paused: bool = Field(description="Every listing is paused.")
    price: Decimal | None = Field(None, description="The cheapest current price among its stores.")
    currency: str
    status: str
    listings: list[ListingOut]


class ProductIn(Schema):
    url: str = Field(max_length=2000, description="The product's page at a shop (http or https).")
    name: str = Field("", max_length=300)
    priority: PriorityName = Priority.NORMAL


class ProductPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=300)
    paused: bool | None = None


class ListingPatch(Schema):
    priority: PriorityName | None = None
    paused: bool | None = None


class PricePointOut(Schema):
    product_id: int
    product: str
    listing_id: int
    store: str
    url: str
    checked_at: datetime
    price: Decimal
    currency: str
    in_stock: bool | None


class ImportIn(Schema):
    text: str = Field(max_length=2_000_000, description="One URL a line, or CSV url,name,priority,target_price.")


class ImportRowOut(Schema):
    line: int | None
    url: str
    outcome: Literal["added", "duplicate", "refused"]
    message: str
    product_id: int | None


class ImportOut(Schema):
    id: int
    status: str
    total: int
    done: int
    counts: dict[str, int]
    results: list[ImportRowOut]
    finished_at: datetime | None


class ProductPage(Schema):
    items: list[ProductOut]
    count: int


class ListingList(Schema):
    items: list[ListingOut]
    count: int


class HistoryPage(Schema):
    items: list[PricePointOut]
    count: int

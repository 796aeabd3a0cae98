"""The shapes the API answers and accepts (pydantic, through django-ninja), shared by routers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator, WithJsonSchema

from ..models import Priority


def text_clean(value):
    """Text a database can store: NUL characters dropped (PostgreSQL refuses them) and lone
    surrogates (valid in JSON escapes, not in UTF-8) replaced. Applied to nested data too."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [text_clean(item) for item in value]
    if isinstance(value, dict):
        return {text_clean(key): text_clean(item) for key, item in value.items()}
    return value


Text = Annotated[str, BeforeValidator(text_clean)]
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def moment_parse(value):
    """An RFC 3339 time with its offset, and nothing else: pydantic alone would also take Unix
    numbers and dates, which the documented format does not promise. A valid time Python
    cannot hold (a leap second, year 0, an offset pushing past year 9999) is clamped."""
    if isinstance(value, datetime):
        return value
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError("expected a date and time with its offset (RFC 3339), like 2026-01-31T12:00:00Z")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    text = (
        f"{max(int(year), 1):04d}-{month}-{day}T{hour}:{minute}:{min(int(second), 59):02d}"
        f".{(fraction or '0')[:6].ljust(6, '0')}{'+00:00' if offset in 'Zz' else offset}"
    )
    parsed = datetime.fromisoformat(text)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC) if parsed.year > 1 else datetime.min.replace(tzinfo=UTC)


Moment = Annotated[
    datetime,
    BeforeValidator(moment_parse),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
# An amount a person sends: a JSON number (cents beyond two places are rounded on save).
Amount = Annotated[
    Decimal,
    Field(ge=0, lt=10**12),
    WithJsonSchema({"type": "number", "minimum": 0, "exclusiveMaximum": 10**12}),
]
# Every error the API answers, each as `Error`: a refused request (400), no token (401), not
# yours or not there (404), already tracked (409), an invalid request (422), too many (429).
ERRORS = frozenset({400, 401, 404, 409, 422, 429})
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
    url: Text = Field(max_length=2000, description="The product's page at a shop (http or https).")
    name: Text = Field("", max_length=300)
    priority: PriorityName = Priority.NORMAL
    keep: bool = Field(
        False,
        description="The page is checked before it is kept; one whose first check finds no price (a 404, "
        "a file, a page without a price, a shop that cannot be reached) is refused with the reason. "
        "`true` keeps it anyway and checks it on schedule (the add form's \"keep trying\").",
    )


class AddRefused(Schema):
    """Why a page was not added (400); nothing was kept."""

    message: str = Field(description="Why, in plain words.")
    detail: str = Field("", description="What the first check recorded (HTTP status, error), for whoever digs.")
    keepable: bool = Field(
        False, description="The first check refused it: sending it again with `\"keep\": true` tracks it anyway."
    )


class ProductPatch(Schema):
    name: Text | None = Field(None, min_length=1, max_length=300)
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
    text: Text = Field(max_length=2_000_000, description="One URL a line, or CSV url,name,priority,target_price.")


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

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum


class Availability(StrEnum):
    IN_STOCK = "InStock"
    OUT_OF_STOCK = "OutOfStock"


@dataclass
class ExtractionResult:
    """What a page says about its product, and which method found it.

    `price` is None when no confident price was found; `reason` then says why.
    `flagged` is set when layers disagree: the listing is marked, nothing is recorded.
    """

    price: Decimal | None = None
    currency: str | None = None
    availability: Availability | None = None
    title: str | None = None
    image: str | None = None
    method: str | None = None  # "json-ld", "microdata", "opengraph", "pattern", "heuristic", "llm"
    confidence: float = 0.0
    reason: str | None = None
    flagged: bool = False
    disagreements: list[dict] = field(default_factory=list)
    selector: str | None = None  # CSS selector of the heuristic winner, checked on this page
    # Why the price is believed: {"source": where it was read, "text": what it was read from}.
    evidence: dict | None = None
    layout: str | None = None  # a hash of the page's class names (provenance.layout_signature)

    @property
    def in_stock(self) -> bool | None:
        if self.availability is None:
            return None
        return self.availability == Availability.IN_STOCK

    def as_dict(self) -> dict:
        data = asdict(self)
        data["price"] = str(self.price) if self.price is not None else None
        data["availability"] = self.availability.value if self.availability else None
        return data

"""Per-store extraction patterns as pure data, and applying them to a page.

A pattern is CSS or XPath selectors for price, currency, availability, title and image,
each with an optional attribute and a post-processing rule. Stored on
`tracker.models.ExtractionPattern` as JSON (`PatternSpec.as_dict()` / `from_dict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

SelectorKind = Literal["css", "xpath"]


@dataclass(frozen=True)
class FieldRule:
    selector: str
    kind: SelectorKind = "css"
    attribute: str | None = None  # read this attribute instead of the text (e.g. "content")
    post: str | None = None  # post-processing rule, e.g. a regex with one group

    @classmethod
    def from_dict(cls, data: dict | None) -> FieldRule | None:
        if not data or not data.get("selector"):
            return None
        return cls(
            selector=str(data["selector"]),
            kind=data.get("kind", "css"),
            attribute=data.get("attribute") or None,
            post=data.get("post") or None,
        )


@dataclass(frozen=True)
class PatternSpec:
    price: FieldRule
    currency: FieldRule | None = None
    availability: FieldRule | None = None
    title: FieldRule | None = None
    image: FieldRule | None = None
    # A fixed currency for shops that never print one next to the price.
    default_currency: str | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PatternSpec:
        price = FieldRule.from_dict(data.get("price"))
        if price is None:
            raise ValueError("a pattern needs a price selector")
        return cls(
            price=price,
            currency=FieldRule.from_dict(data.get("currency")),
            availability=FieldRule.from_dict(data.get("availability")),
            title=FieldRule.from_dict(data.get("title")),
            image=FieldRule.from_dict(data.get("image")),
            default_currency=data.get("default_currency") or None,
            extra=dict(data.get("extra") or {}),
        )

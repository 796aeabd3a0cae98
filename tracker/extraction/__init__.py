"""Pure extraction: page HTML in, price and facts out. No ORM, no network."""

from .result import Availability, ExtractionResult
from .pipeline import extract

__all__ = ["Availability", "ExtractionResult", "extract"]

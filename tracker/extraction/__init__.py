"""Pure extraction: page HTML in, price and facts out. No ORM, no network."""

from .pipeline import extract
from .result import Availability, ExtractionResult

__all__ = ["Availability", "ExtractionResult", "extract"]

"""Pure extraction: page HTML in, price and facts out. No ORM, no network.

Layers, in order: structured data (`structured.py`), the store's pattern (`patterns.py`),
DOM heuristics (`heuristics.py`, reading the page through `dom.py`, selectors from
`locators.py`); `pipeline.py` runs them and records disagreements.
"""

from .patterns import FieldRule, PatternMatch, PatternSpec, SelectorError, apply_pattern, validate_selector
from .pipeline import extract
from .result import Availability, ExtractionResult

__all__ = [
    "Availability",
    "ExtractionResult",
    "FieldRule",
    "PatternMatch",
    "PatternSpec",
    "SelectorError",
    "apply_pattern",
    "extract",
    "validate_selector",
]

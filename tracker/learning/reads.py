"""Pattern reads: the store's active pattern, read on every check, and its spec."""

from __future__ import annotations

import logging

from .. import rows
from ..extraction.patterns import PatternSpec
from ..models import ExtractionPattern

log = logging.getLogger(__name__)


def store_active_pattern(*, store_id: int) -> ExtractionPattern | None:
    return ExtractionPattern.objects.filter(store_id=store_id, status=ExtractionPattern.Status.ACTIVE).first()


def store_active_pattern_for_check(*, store_id: int) -> ExtractionPattern | None:
    """The store's active pattern with what a check uses (id, store and spec), read on every
    check: one small query written out (rows.py), since building it with the ORM costs ten
    times the query."""
    return rows.row_first(
        ExtractionPattern,
        where={"store": store_id, "status": ExtractionPattern.Status.ACTIVE.value},
        fields=("id", "store", "spec"),
    )


def pattern_spec(pattern: ExtractionPattern | None) -> PatternSpec | None:
    if pattern is None:
        return None
    try:
        return PatternSpec.from_dict(pattern.spec)
    except (ValueError, TypeError, AttributeError):
        log.warning("unreadable pattern spec", extra={"pattern_id": pattern.pk})
        return None

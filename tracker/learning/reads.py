"""Pattern reads: the store's active pattern, read on every check, and its spec."""

from __future__ import annotations

import logging

from .. import rows
from ..extraction.patterns import PatternSpec
from ..models import ExtractionPattern

log = logging.getLogger(__name__)


def store_active_pattern(*, store_id: int) -> ExtractionPattern | None:
    """The store's own active pattern (the one for everyone's listings)."""
    return ExtractionPattern.objects.filter(
        store_id=store_id, owner__isnull=True, status=ExtractionPattern.Status.ACTIVE
    ).first()


def owner_active_pattern(*, store_id: int, owner_id: int) -> ExtractionPattern | None:
    """The active pattern a person made for his own listings at a store, if any."""
    return ExtractionPattern.objects.filter(
        store_id=store_id, owner_id=owner_id, status=ExtractionPattern.Status.ACTIVE
    ).first()


def store_active_pattern_for_check(*, store_id: int, owner_id: int | None = None) -> ExtractionPattern | None:
    """The pattern a check of `owner_id`'s listing uses: his own active pattern for the store,
    else the store's. Read on every check with what a check uses (id, store, owner and spec):
    one small query written out (rows.py), since building it with the ORM costs ten times the
    query."""
    return rows.row_first_preferring(
        ExtractionPattern,
        where={"store": store_id, "status": ExtractionPattern.Status.ACTIVE.value},
        prefer=("owner", owner_id),
        fields=("id", "store", "owner", "spec"),
    )


def pattern_spec(pattern: ExtractionPattern | None) -> PatternSpec | None:
    if pattern is None:
        return None
    try:
        return PatternSpec.from_dict(pattern.spec)
    except (ValueError, TypeError, AttributeError):
        log.warning("unreadable pattern spec", extra={"pattern_id": pattern.pk})
        return None

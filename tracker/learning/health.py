"""Watching each store's pattern: checks count its successes and failures so a shop redesign is
noticed within a few checks (probation, then re-learning), a recorded price must not jump
implausibly against the listing's history, and `pattern_health_check` re-validates every
active pattern daily."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from ..extraction.parsing import parse_html
from ..extraction.patterns import PatternSpec, apply_pattern
from ..extraction.validation import price_jump, spec_problems
from ..models import ExtractionPattern, Listing, ListingPage, Store
from .learn import pattern_learn, pattern_needed
from .samples import listing_reference_price, store_sample_pages

log = logging.getLogger(__name__)


def pattern_record_use(*, pattern_id: int, ok: bool) -> bool:
    """Count one check's use of a pattern. True when this failure put it on probation.

    Safe under concurrency: counters are F() updates and the move to probation is a
    conditional UPDATE, so only one check sees True (and queues the re-learning).
    """
    patterns = ExtractionPattern.objects.filter(pk=pattern_id)
    if ok:
        patterns.update(success_count=F("success_count") + 1, consecutive_failures=0)
        return False
    patterns.update(failure_count=F("failure_count") + 1, consecutive_failures=F("consecutive_failures") + 1)
    return bool(
        patterns.filter(
            status=ExtractionPattern.Status.ACTIVE,
            consecutive_failures__gte=settings.PATTERN_PROBATION_AFTER,
        ).update(status=ExtractionPattern.Status.PROBATION)
    )


def pattern_probation(*, pattern: ExtractionPattern, reason: str) -> bool:
    """Take an active pattern out of use. True when this call did it."""
    moved = ExtractionPattern.objects.filter(pk=pattern.pk, status=ExtractionPattern.Status.ACTIVE).update(
        status=ExtractionPattern.Status.PROBATION, notes=f"{pattern.notes}\nprobation: {reason}"[-2000:]
    )
    return bool(moved)


def _jump_problems(*, store: Store, spec: PatternSpec) -> list[str]:
    problems: list[str] = []
    for page in (
        ListingPage.objects.filter(listing__store=store)
        .select_related("listing")
        .order_by("-fetched_at")[: settings.PATTERN_SAMPLE_PAGES]
    ):
        tree = parse_html(page.html)
        if tree is None:
            continue
        price = apply_pattern(tree, spec).price
        if price is not None and price_jump(
            price=price, reference=listing_reference_price(listing=page.listing)
        ):
            problems.append(f"price on {page.url}: {price} is implausible against the listing's history")
    return problems


def pattern_health_check(*, store: Store, use_llm: bool = True) -> str:
    """Re-validate the store's active pattern on its recent pages; re-learn when it fails.

    Returns "healthy", "relearned", "failed" (the active pattern failed and no new one was
    found: the caller may queue the LLM), "broken" (still no pattern) or "no-pattern" (the
    store does not need one). Safe to run twice: a healthy pattern only gets its validation
    time updated.
    """
    pattern = ExtractionPattern.objects.filter(
        store=store, owner__isnull=True, status=ExtractionPattern.Status.ACTIVE
    ).first()
    if pattern is None:
        if store.extraction_status == Store.ExtractionStatus.OK:
            return "no-pattern"
        learned = pattern_learn(store=store, use_llm=False)  # the LLM was tried when this began
        return "relearned" if learned.pattern else "broken"
    pages = store_sample_pages(store=store)
    if not pages:
        return "healthy"
    spec = PatternSpec.from_dict(pattern.spec)
    problems = spec_problems(spec, pages) + _jump_problems(store=store, spec=spec)
    if not problems:
        ExtractionPattern.objects.filter(pk=pattern.pk).update(
            last_validated_at=timezone.now(), validated_on=[p.url for p in pages]
        )
        return "healthy"
    pattern_probation(pattern=pattern, reason="; ".join(problems)[:500])
    learned = pattern_learn(store=store, use_llm=use_llm)
    return "relearned" if learned.pattern else "failed"


def listing_price_history_ok(*, listing: Listing, price: Decimal) -> bool:
    """False when `price` jumps implausibly against the listing's recorded prices.

    Every recorded price also sets `last_price`, so a listing without one has no history, and
    the price it was last recorded at is plausible by definition: neither needs a query.
    """
    if listing.last_price is None or price == listing.last_price:
        return True
    return not price_jump(price=price, reference=listing_reference_price(listing=listing))


_STRUCTURED_METHODS = {"json-ld", "microdata", "opengraph"}


def pattern_after_check(*, store: Store, pattern: ExtractionPattern | None, result, outcome: str) -> bool:
    """Count a finished check for the store's pattern. True when the store needs learning.

    The pattern succeeded when it gave the recorded price; it failed when another layer
    contradicted it, when its price was refused (an implausible jump), or when the page had
    no structured price and the pattern gave none (heuristics answered, or nobody did). A
    structured price the pattern did not contradict counts neither way. A store without a
    pattern whose page needed the heuristics (or gave no price) asks for learning, once.
    """
    from ..models import CheckLog

    method = result.method or ""
    structured = bool(method) and method.split("+")[0] in _STRUCTURED_METHODS
    if pattern is not None:
        disagreed = any(
            isinstance(d, dict) and d.get("layer") == "pattern" for d in result.disagreements or []
        )
        if method == "pattern" and outcome == CheckLog.Outcome.OK and not disagreed:
            pattern_record_use(pattern_id=pattern.pk, ok=True)
            return False
        if disagreed or method == "pattern" or not structured:
            probation = pattern_record_use(pattern_id=pattern.pk, ok=False)
            # A person's own pattern failing is his to fix; the store's learning is not asked.
            return probation and pattern.owner_id is None
        return False
    if not structured and not result.flagged:
        if store.extraction_status != Store.ExtractionStatus.OK or store.extraction_status_since is not None:
            return False  # already claimed for learning (or given up on) when the check began
        return pattern_needed(store_id=store.pk)
    return False

"""Learning each store's extraction pattern.

A pattern is learned once per store and reused for every listing of that store: heuristics
first (no LLM needed), then the LLM agent when one is configured. A pattern becomes active
only after it validates on the store's recent pages (samples.py); checks count its successes
and failures (health.py) so a shop redesign is noticed within a few checks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ..extraction.heuristics import heuristic_price
from ..extraction.parsing import parse_html
from ..extraction.patterns import PatternSpec
from ..extraction.validation import spec_problems
from ..models import ExtractionPattern, Listing, LLMCall, Store
from .llm import CallStats, ExtractorPatternAgent, LLMUnavailable, SamplePage, agent_from_settings
from .samples import store_sample_pages

log = logging.getLogger(__name__)

@dataclass
class LearnOutcome:
    pattern: ExtractionPattern | None
    problems: list[str] = field(default_factory=list)
    llm_calls: int = 0
    llm_tokens: int = 0
    llm_error: str = ""


def _heuristic_specs(pages: Sequence[SamplePage]) -> list[PatternSpec]:
    """Candidate patterns derived from single pages by the heuristics (no LLM)."""
    specs: list[PatternSpec] = []
    for page in pages[:3]:
        tree = parse_html(page.html)
        if tree is None:
            continue
        try:
            found = heuristic_price(tree)
        except Exception:  # a page the heuristics cannot read must not stop learning
            log.debug("heuristics failed on %s", page.url, exc_info=True)
            continue
        if found.selector is None:
            continue
        spec = PatternSpec(price=found.selector, default_currency=found.currency)
        if spec not in specs:
            specs.append(spec)
    return specs


def pattern_from_pages(*, pages: Sequence[SamplePage]) -> tuple[PatternSpec | None, list[str]]:
    """The first pattern the heuristics derive from a store's pages that validates on all of
    them, or None and what was wrong with each candidate. Pure (no database, no LLM), so
    `manage.py extract --by-shop` learns exactly as the tracker does."""
    problems: list[str] = []
    for spec in _heuristic_specs(pages):
        found = spec_problems(spec, pages)
        if not found:
            return spec, problems
        problems.extend(found)
    return None, problems


def _record_llm_call(store: Store) -> Callable[[CallStats], None]:
    def record(stats: CallStats) -> None:
        LLMCall.objects.create(
            store=store,
            purpose="pattern",
            model=stats.model[:200],
            prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens,
            ok=stats.ok,
            error=stats.error,
            duration_ms=stats.duration_ms,
        )

    return record


def pattern_learn(
    *, store: Store, use_llm: bool = True, agent: ExtractorPatternAgent | None = None
) -> LearnOutcome:
    """Learn and activate a new pattern for `store`, or mark the store as needing one.

    Heuristics first, then the LLM agent (when configured). Only a pattern that validates on
    the store's recent pages is saved, as a new active version. Safe to run twice: when the
    active pattern still validates on the current pages, nothing new is saved.
    """
    pages = store_sample_pages(store=store)
    current = ExtractionPattern.objects.filter(
        store=store, owner__isnull=True, status=ExtractionPattern.Status.ACTIVE
    ).first()
    if current is not None and pages and not spec_problems(PatternSpec.from_dict(current.spec), pages):
        return LearnOutcome(pattern=current)
    outcome = LearnOutcome(pattern=None)
    on_probation = ExtractionPattern.objects.filter(
        store=store, owner__isnull=True, status=ExtractionPattern.Status.PROBATION
    ).first()
    if current is None and on_probation is not None and pages:
        if not spec_problems(PatternSpec.from_dict(on_probation.spec), pages):
            # The failures were the pages', not the pattern's (e.g. a product page taken down).
            ExtractionPattern.objects.filter(
                pk=on_probation.pk, status=ExtractionPattern.Status.PROBATION
            ).update(
                status=ExtractionPattern.Status.ACTIVE,
                consecutive_failures=0,
                last_validated_at=timezone.now(),
            )
            on_probation.refresh_from_db()
            outcome.pattern = on_probation
            return outcome
    if not pages:
        outcome.problems = ["no page of this store has been fetched yet"]
        _learn_failed(store=store)
        return outcome
    spec, problems = pattern_from_pages(pages=pages)
    if spec is not None:
        outcome.pattern = pattern_activate(store=store, spec=spec, source=ExtractionPattern.Source.HEURISTIC, pages=pages)
        return outcome
    outcome.problems.extend(problems)
    if use_llm:
        agent = agent or agent_from_settings()
    if use_llm and agent is not None:
        try:
            answer = agent.propose(
                pages=pages, validate=lambda spec: spec_problems(spec, pages), on_call=_record_llm_call(store)
            )
        except LLMUnavailable as exc:
            outcome.llm_error = str(exc)
            answer = None
        if answer is not None:
            outcome.llm_calls = len(answer.calls)
            outcome.llm_tokens = answer.tokens
            if answer.spec is not None:
                outcome.pattern = pattern_activate(
                    store=store,
                    spec=answer.spec,
                    source=ExtractionPattern.Source.LLM,
                    pages=pages,
                    notes=f"learned in {answer.rounds} round(s), {answer.tokens} tokens",
                )
                return outcome
            outcome.problems.extend(answer.problems)
        else:
            outcome.llm_calls = 1
    _learn_failed(store=store)
    return outcome


def pattern_activate(
    *,
    store: Store,
    spec: PatternSpec,
    source: str,
    pages: Sequence[SamplePage],
    notes: str = "",
    owner=None,
) -> ExtractionPattern:
    """Save `spec` as the store's new active version (or, with `owner`, that person's version
    for his own listings); the previous versions of the same store or person are retired.

    Callers validate first: nothing here decides whether a pattern is trustworthy.
    """
    now = timezone.now()
    with transaction.atomic():
        Store.objects.select_for_update().filter(pk=store.pk).first()
        ExtractionPattern.objects.filter(
            store=store,
            owner=owner,
            status__in=[ExtractionPattern.Status.ACTIVE, ExtractionPattern.Status.PROBATION],
        ).update(status=ExtractionPattern.Status.RETIRED)
        version = (ExtractionPattern.objects.filter(store=store).aggregate(v=Max("version"))["v"] or 0) + 1
        pattern = ExtractionPattern.objects.create(
            store=store,
            owner=owner,
            version=version,
            spec=spec.as_dict(),
            source=source,
            status=ExtractionPattern.Status.ACTIVE,
            last_validated_at=now,
            validated_on=[p.url for p in pages],
            notes=notes,
        )
        waiting = Listing.objects.filter(store=store, status=Listing.Status.BROKEN)
        if owner is None:
            Store.objects.filter(pk=store.pk).update(
                extraction_status=Store.ExtractionStatus.OK, extraction_status_since=now
            )
        else:
            waiting = waiting.filter(product__owner=owner)
        # Listings that were waiting for a pattern are checked again right away.
        waiting.update(status=Listing.Status.PENDING, status_reason="new extraction pattern", next_check_at=now)
    if owner is None:
        store.extraction_status = Store.ExtractionStatus.OK
    log.info("pattern activated", extra={"store_id": store.pk, "version": version, "source": source})
    return pattern


def _learn_failed(*, store: Store) -> None:
    had_pattern = ExtractionPattern.objects.filter(store=store, owner__isnull=True).exists()
    status = Store.ExtractionStatus.BROKEN if had_pattern else Store.ExtractionStatus.NEEDS_PATTERN
    now = timezone.now()
    with transaction.atomic():
        ExtractionPattern.objects.filter(
            store=store, owner__isnull=True, status=ExtractionPattern.Status.PROBATION
        ).update(
            status=ExtractionPattern.Status.UNHEALTHY
        )
        Store.objects.filter(pk=store.pk).exclude(extraction_status=status).update(
            extraction_status=status, extraction_status_since=now
        )
        if status == Store.ExtractionStatus.BROKEN:
            Listing.objects.filter(
                store=store, status__in=[Listing.Status.NO_PRICE, Listing.Status.FLAGGED]
            ).update(status=Listing.Status.BROKEN, status_reason="extraction broken: no pattern validates")
    store.extraction_status = status


def pattern_save_person(
    *, store: Store, spec: PatternSpec, owner=None
) -> tuple[ExtractionPattern | None, list[str]]:
    """Save a pattern a person made, only if it validates on the pages it will read: with
    `owner`, his own listings' pages, and it applies to his listings only; without, the
    store's pages, as the store's pattern (staff)."""
    pages = store_sample_pages(store=store, owner=owner)
    problems = spec_problems(spec, pages)
    if problems:
        return None, problems
    pattern = pattern_activate(
        store=store, spec=spec, source=ExtractionPattern.Source.PERSON, pages=pages, owner=owner
    )
    return pattern, []


def pattern_promote(*, pattern: ExtractionPattern) -> tuple[ExtractionPattern | None, list[str]]:
    """Staff make a person's pattern the store's, once it validates on all the store's pages.
    The person's own version stays his (his listings keep reading it first)."""
    store = pattern.store
    spec = PatternSpec.from_dict(pattern.spec)
    pages = store_sample_pages(store=store)
    problems = spec_problems(spec, pages)
    if problems:
        return None, problems
    promoted = pattern_activate(
        store=store,
        spec=spec,
        source=pattern.source,
        pages=pages,
        notes=f"promoted from version {pattern.version} of user {pattern.owner_id}",
    )
    return promoted, []


def pattern_needed(*, store_id: int) -> bool:
    """Claim the first learning of a store without a pattern. True for one caller only: the
    claim is a conditional UPDATE of `extraction_status_since`, which learning then sets."""
    if ExtractionPattern.objects.filter(
        store_id=store_id, owner__isnull=True, status=ExtractionPattern.Status.ACTIVE
    ).exists():
        return False
    return bool(
        Store.objects.filter(
            pk=store_id, extraction_status=Store.ExtractionStatus.OK, extraction_status_since__isnull=True
        ).update(extraction_status_since=timezone.now())
    )



"""Learning, validating and watching each store's extraction pattern.

A pattern is learned once per store and reused for every listing of that store: heuristics
first (no LLM needed), then the LLM agent when one is configured. A pattern becomes active
only after it validates on the store's recent pages; checks count its successes and failures
so a shop redesign is noticed within a few checks, and `pattern_health_check` re-validates
every active pattern daily.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from . import history, rows
from .extraction.heuristics import heuristic_price
from .extraction.parsing import parse_html
from .extraction.patterns import (
    PatternSpec,
    apply_pattern,
)
from .extraction.validation import price_jump, spec_problems
from .llm import CallStats, ExtractorPatternAgent, LLMUnavailable, SamplePage, agent_from_settings
from .models import ExtractionPattern, Listing, ListingPage, LLMCall, Store, html_unpack

log = logging.getLogger(__name__)

# --- pages of a store --------------------------------------------------------------------------


# A page that reads the same is still rewritten this often, so a store's samples follow a
# redesign that moved no price (the old layout would fail a pattern learned on the new one).
PAGE_REFRESH = timedelta(days=1)


def page_facts_hash(*, result) -> str:
    """What extraction read from a page (price, currency, stock, title, image, which layer,
    where and from which text) and the page's layout (its class names), hashed: pages that
    differ only in tokens, timestamps or recommendations hash the same, a redesign does not."""
    evidence = result.evidence or {}
    facts = [
        str(result.price), result.currency, str(result.availability), result.title, result.image, result.method,
        evidence.get("source"), evidence.get("text"), result.selector, result.flagged, result.reason, result.layout,
    ]
    return hashlib.sha256(json.dumps(facts, default=str).encode("utf-8", "surrogatepass")).hexdigest()


def listing_page_save(*, listing: Listing, url: str, html: str, facts_hash: str = "", now=None) -> bool:
    """Keep the page as one of its store's sample pages, capped and compressed, when what
    extraction reads from it is new. Returns whether it was written.

    A store keeps at most STORE_PAGES_KEPT pages: a listing without a stored page joins
    while there is room or in place of a page older than PAGE_REFRESH. Most checks find
    their page as it was and write nothing (one small SELECT). Safe to run twice: one row
    per listing, and a second run finds the page written.
    """
    now = now or timezone.now()
    fresh = now - PAGE_REFRESH
    if facts_hash and rows.row_exists(
        ListingPage, where={"listing": listing.pk, "facts_hash": facts_hash}, after={"fetched_at": fresh}
    ):
        return False
    kept = settings.STORE_PAGES_KEPT
    has_page = rows.row_exists(ListingPage, where={"listing": listing.pk})
    if not has_page and rows.store_pages_count(store_id=listing.store_id, since=fresh) >= kept:
        return False
    cap = settings.LISTING_PAGE_MAX_CHARS
    rows.row_upsert(
        ListingPage(
            listing=listing,
            url=url[:2000],
            html=(html or "")[:cap],
            facts_hash=facts_hash,
            truncated=len(html or "") > cap,
            fetched_at=now,
        ),
        unique="listing",
        update=("url", "html_z", "facts_hash", "truncated", "fetched_at"),
    )
    if not has_page:
        stale = ListingPage.objects.filter(listing__store_id=listing.store_id).order_by("-fetched_at", "-pk")[kept:]
        ListingPage.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return True


def store_sample_pages(*, store: Store, limit: int | None = None) -> list[SamplePage]:
    """The store's sample pages, one per listing, most recently written first."""
    limit = limit or settings.PATTERN_SAMPLE_PAGES
    rows = (
        ListingPage.objects.filter(listing__store=store)
        .order_by("-fetched_at")
        .values_list("url", "html_z")[:limit]
    )
    return [SamplePage(url=url, html=html_unpack(packed)) for url, packed in rows]


def listing_reference_price(*, listing: Listing) -> Decimal | None:
    """The median of the listing's recent recorded prices (robust against one odd value)."""
    prices = sorted(history.prices_latest(listing.prices.all(), limit=5))
    if not prices:
        return listing.last_price
    return prices[len(prices) // 2]


# --- learning -------------------------------------------------------------------------------------


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
    current = ExtractionPattern.objects.filter(store=store, status=ExtractionPattern.Status.ACTIVE).first()
    if current is not None and pages and not spec_problems(PatternSpec.from_dict(current.spec), pages):
        return LearnOutcome(pattern=current)
    outcome = LearnOutcome(pattern=None)
    on_probation = ExtractionPattern.objects.filter(
        store=store, status=ExtractionPattern.Status.PROBATION
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
    for spec in _heuristic_specs(pages):
        problems = spec_problems(spec, pages)
        if not problems:
            outcome.pattern = pattern_activate(
                store=store, spec=spec, source=ExtractionPattern.Source.HEURISTIC, pages=pages
            )
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
    *, store: Store, spec: PatternSpec, source: str, pages: Sequence[SamplePage], notes: str = ""
) -> ExtractionPattern:
    """Save `spec` as the store's new active version; the previous versions are retired.

    Callers validate first: nothing here decides whether a pattern is trustworthy.
    """
    now = timezone.now()
    with transaction.atomic():
        Store.objects.select_for_update().filter(pk=store.pk).first()
        ExtractionPattern.objects.filter(
            store=store,
            status__in=[ExtractionPattern.Status.ACTIVE, ExtractionPattern.Status.PROBATION],
        ).update(status=ExtractionPattern.Status.RETIRED)
        version = (ExtractionPattern.objects.filter(store=store).aggregate(v=Max("version"))["v"] or 0) + 1
        pattern = ExtractionPattern.objects.create(
            store=store,
            version=version,
            spec=spec.as_dict(),
            source=source,
            status=ExtractionPattern.Status.ACTIVE,
            last_validated_at=now,
            validated_on=[p.url for p in pages],
            notes=notes,
        )
        Store.objects.filter(pk=store.pk).update(
            extraction_status=Store.ExtractionStatus.OK, extraction_status_since=now
        )
        # Listings that were waiting for a pattern are checked again right away.
        Listing.objects.filter(store=store, status=Listing.Status.BROKEN).update(
            status=Listing.Status.PENDING, status_reason="new extraction pattern", next_check_at=now
        )
    store.extraction_status = Store.ExtractionStatus.OK
    log.info("pattern activated", extra={"store_id": store.pk, "version": version, "source": source})
    return pattern


def _learn_failed(*, store: Store) -> None:
    had_pattern = ExtractionPattern.objects.filter(store=store).exists()
    status = Store.ExtractionStatus.BROKEN if had_pattern else Store.ExtractionStatus.NEEDS_PATTERN
    now = timezone.now()
    with transaction.atomic():
        ExtractionPattern.objects.filter(store=store, status=ExtractionPattern.Status.PROBATION).update(
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


def pattern_save_person(*, store: Store, spec: PatternSpec) -> tuple[ExtractionPattern | None, list[str]]:
    """Save a pattern a person made, only if it validates on the store's pages."""
    pages = store_sample_pages(store=store)
    problems = spec_problems(spec, pages)
    if problems:
        return None, problems
    return pattern_activate(store=store, spec=spec, source=ExtractionPattern.Source.PERSON, pages=pages), []


# --- health --------------------------------------------------------------------------------------


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
    pattern = ExtractionPattern.objects.filter(store=store, status=ExtractionPattern.Status.ACTIVE).first()
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


def pattern_needed(*, store_id: int) -> bool:
    """Claim the first learning of a store without a pattern. True for one caller only: the
    claim is a conditional UPDATE of `extraction_status_since`, which learning then sets."""
    if ExtractionPattern.objects.filter(store_id=store_id, status=ExtractionPattern.Status.ACTIVE).exists():
        return False
    return bool(
        Store.objects.filter(
            pk=store_id, extraction_status=Store.ExtractionStatus.OK, extraction_status_since__isnull=True
        ).update(extraction_status_since=timezone.now())
    )


def listing_price_history_ok(*, listing: Listing, price: Decimal) -> bool:
    """False when `price` jumps implausibly against the listing's recorded prices.

    Every recorded price also sets `last_price`, so a listing without one has no history, and
    the price it was last recorded at is plausible by definition: neither needs a query.
    """
    if listing.last_price is None or price == listing.last_price:
        return True
    return not price_jump(price=price, reference=listing_reference_price(listing=listing))


# --- during checks --------------------------------------------------------------------------------


def store_active_pattern(*, store_id: int) -> ExtractionPattern | None:
    return ExtractionPattern.objects.filter(store_id=store_id, status=ExtractionPattern.Status.ACTIVE).first()


def store_active_pattern_for_check(*, store_id: int) -> ExtractionPattern | None:
    """The store's active pattern with what a check uses (id and spec), read on every check:
    one small query written out, since building it with the ORM costs ten times the query."""
    table = connection.ops.quote_name(ExtractionPattern._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, spec FROM {table} WHERE store_id = %s AND status = %s LIMIT 1",
            [store_id, ExtractionPattern.Status.ACTIVE.value],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return ExtractionPattern(pk=row[0], store_id=store_id, spec=_json_value(row[1]))


def _json_value(value):
    """A JSON column as the database driver returns it: text on SQLite (and on PostgreSQL,
    where Django asks psycopg for text), or already decoded."""
    return json.loads(value) if isinstance(value, (str, bytes, bytearray)) else value


def pattern_spec(pattern: ExtractionPattern | None) -> PatternSpec | None:
    if pattern is None:
        return None
    try:
        return PatternSpec.from_dict(pattern.spec)
    except (ValueError, TypeError, AttributeError):
        log.warning("unreadable pattern spec", extra={"pattern_id": pattern.pk})
        return None


_STRUCTURED_METHODS = {"json-ld", "microdata", "opengraph"}


def pattern_after_check(*, store: Store, pattern: ExtractionPattern | None, result, outcome: str) -> bool:
    """Count a finished check for the store's pattern. True when the store needs learning.

    The pattern succeeded when it gave the recorded price; it failed when another layer
    contradicted it, when its price was refused (an implausible jump), or when the page had
    no structured price and the pattern gave none (heuristics answered, or nobody did). A
    structured price the pattern did not contradict counts neither way. A store without a
    pattern whose page needed the heuristics (or gave no price) asks for learning, once.
    """
    from .models import CheckLog

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
            return pattern_record_use(pattern_id=pattern.pk, ok=False)
        return False
    if not structured and not result.flagged:
        if store.extraction_status != Store.ExtractionStatus.OK or store.extraction_status_since is not None:
            return False  # already claimed for learning (or given up on) when the check began
        return pattern_needed(store_id=store.pk)
    return False

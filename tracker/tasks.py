"""Celery entry points for tracking. Thin: load by id, call a service, map errors.

This module is the only place in `tracker` that enqueues.
"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.db.models import Q

from . import checking, rates, render_trial, scheduling
from .learning import health, learn
from .learning.llm import LLMUnavailable
from .models import ExtractionPattern, Listing, Store

# acks_late and reject_on_worker_lost come from the settings (CELERY_TASK_*) for every task;
# the queue from CELERY_TASK_ROUTES, except a check's, which is chosen when it is sent.


@shared_task(name="tracker.tasks.check_listing", soft_time_limit=90, time_limit=120)
def check_listing(listing_id: int, check_id: int | None = None) -> str | None:
    """Check one listing. Idempotent: a redelivered task finds its check already taken."""
    if check_id is None:
        listing = Listing.objects.filter(id=listing_id).first()
        if listing is None:
            return None
        check_id = checking.check_create(listing=listing).pk
    outcome = checking.listing_check(check_id=check_id)
    if outcome is not None and outcome.requeue_in is not None:
        # The store's next turn is seconds away: the same check, a short countdown.
        check_listing.apply_async(
            args=[listing_id, check_id],
            queue=scheduling.queue_for_listing(listing=outcome.check.listing),
            countdown=outcome.requeue_in,
        )
        return "requeued"
    if outcome is not None and outcome.render_trial:
        # A script shell: one try in the browser, on the browser queue (rendering is slow).
        try_rendering.apply_async(args=[listing_id], queue=scheduling.BROWSER_QUEUE)
    if outcome is not None and outcome.learn_pattern:
        enqueue_pattern_learning(store_id=outcome.check.listing.store_id)
    return outcome.check.outcome if outcome else None


def enqueue_check(*, listing_id: int, check_id: int, queue: str, countdown: float = 0) -> None:
    """Send a check to the workers once the transaction that created it has committed."""
    transaction.on_commit(
        lambda: check_listing.apply_async(
            args=[listing_id, check_id], queue=queue, countdown=countdown or None
        )
    )


def first_check_follow_up(*, listing: Listing, outcome: checking.CheckOutcome | None) -> None:
    """What a first check run in the asking process (the add rule) leaves to the workers, sent
    after commit: a check still waiting for the store's turn, a try in the browser, learning."""
    if outcome is None:
        return
    if outcome.requeue_in is not None:
        enqueue_check(
            listing_id=listing.pk,
            check_id=outcome.check.pk,
            queue=scheduling.queue_for_listing(listing=listing),
            countdown=outcome.requeue_in,
        )
    if outcome.render_trial:
        transaction.on_commit(lambda: try_rendering.apply_async(args=[listing.pk], queue=scheduling.BROWSER_QUEUE))
    if outcome.learn_pattern:
        enqueue_pattern_learning(store_id=listing.store_id)


def check_now(*, listing: Listing) -> int:
    """Queue an immediate check of a listing (a person asked); returns the check id."""
    check = checking.check_create(listing=listing)
    enqueue_check(
        listing_id=listing.pk, check_id=check.pk, queue=scheduling.queue_for_listing(listing=listing, priority="high")
    )
    return check.pk


@shared_task(name="tracker.tasks.dispatch_due_checks", soft_time_limit=50, time_limit=60)
def dispatch_due_checks() -> int:
    """Run by beat every minute: claim due listings and fan out their checks.

    Two dispatchers at once are safe: each listing is claimed by a conditional UPDATE.
    """
    claimed = scheduling.checks_claim_due() + scheduling.checks_find_stale()
    for item in claimed:
        check_listing.apply_async(
            args=[item.listing_id, item.check_id],
            queue=item.queue,
            countdown=item.countdown or None,
        )
    return len(claimed)


# --- extraction patterns ---------------------------------------------------------------------

@shared_task(
    name="tracker.tasks.generate_pattern",
    autoretry_for=(LLMUnavailable,),
    retry_backoff=60,
    retry_jitter=True,
    max_retries=2,
    # Up to 3 LLM rounds of LLM_TIMEOUT each, plus validation.
    soft_time_limit=300,
    time_limit=360,
)
def generate_pattern(store_id: int) -> str:
    """Learn a pattern for a store (heuristics, then the LLM). Idempotent: a store whose active
    pattern still validates keeps it; the LLM server being down is retried later."""
    store = Store.objects.filter(id=store_id).first()
    if store is None:
        return "no-store"
    learned = learn.pattern_learn(store=store)
    if learned.pattern is None and learned.llm_error:
        raise LLMUnavailable(learned.llm_error)
    return f"v{learned.pattern.version}" if learned.pattern else store.extraction_status


def enqueue_pattern_learning(*, store_id: int) -> None:
    """Queue learning (routed to the `llm` queue, so it never delays price checks)."""
    transaction.on_commit(lambda: generate_pattern.delay(store_id))


@shared_task(name="tracker.tasks.check_pattern_health", soft_time_limit=1800, time_limit=1900)
def check_pattern_health() -> dict:
    """Daily at 02:00: re-validate every store's active pattern on its recent pages.

    A failing pattern goes on probation and learning is queued (heuristics, then the LLM).
    Safe to run twice: a healthy pattern only gets its validation time updated.
    """
    results: dict[str, int] = {}
    stores = Store.objects.filter(
        Q(patterns__status=ExtractionPattern.Status.ACTIVE)
        | Q(extraction_status__in=[Store.ExtractionStatus.NEEDS_PATTERN, Store.ExtractionStatus.BROKEN])
    ).distinct()
    for store in stores.iterator():
        verdict = health.pattern_health_check(store=store, use_llm=False)
        if verdict == "failed":
            enqueue_pattern_learning(store_id=store.pk)
        results[verdict] = results.get(verdict, 0) + 1
    return results


@shared_task(name="tracker.tasks.refresh_exchange_rates", soft_time_limit=60, time_limit=90)
def refresh_exchange_rates() -> str:
    """Fetch the day's reference rates. Safe to run twice: the same rates replace themselves;
    a failed fetch or a malformed file keeps the rates there were (beat tries again tomorrow)."""
    try:
        table = rates.rates_refresh()
    except rates.RatesError as exc:
        return f"rates kept: {exc}"
    return f"{len(table.per_euro)} rates of {table.published_on}"


@shared_task(name="tracker.tasks.try_rendering", soft_time_limit=90, time_limit=120)
def try_rendering(listing_id: int) -> str:
    """Render a script shell once; when the browser finds a price, its store renders from now on
    and the listing is checked again at once. Safe to run twice (render_trial_run says why)."""
    if not render_trial.render_trial_run(listing_id=listing_id):
        return "no price in the browser either"
    listing = Listing.objects.select_related("store").get(pk=listing_id)
    check_now(listing=listing)
    return "the store renders from now on"


@shared_task(name="tracker.tasks.import_run", acks_late=True, soft_time_limit=1700, time_limit=1800)
def import_run(import_id: int) -> str | None:
    """Handle an import's rows; an import longer than one task's budget goes on in a new task.
    Safe to run twice: see imports.import_run (claimed, resumable, and a row handled again
    answers "duplicate")."""
    from . import imports

    job = imports.import_run(job_id=import_id)
    if job is not None and job.status == job.Status.RUNNING:
        import_run.delay(import_id)
    return job.status if job else None


def import_enqueue(*, job_id: int) -> None:
    """Run an import (on the default queue: no route names it) once the job row is committed."""
    transaction.on_commit(lambda: import_run.delay(job_id))

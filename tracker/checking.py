"""The check pipeline: create a check, claim it, fetch the page politely, extract the price,
record the outcome. Tasks and commands call these; the UI's edits are in services.py.

The statements every check makes are written out in rows.py (see there why)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from . import history, rows, scheduling, signals, stores
from .extraction import ExtractionResult, extract
from .fetching import FetchError, FetchResult, politeness
from .fetching.shells import SHELL_REASON, script_shell
from .learning import health, reads, samples
from .models import CheckLog, Listing, PricePoint, Product
from .render_trial import render_trial_claim

log = logging.getLogger(__name__)


def check_create(*, listing: Listing) -> CheckLog:
    """Queue a check of a listing now (a person asked, or it was just added).

    This check stands for the scheduled one: the next is moved one interval on, so the
    dispatcher does not check the same page again a minute later.
    """
    now = timezone.now()
    with transaction.atomic():
        check = CheckLog.objects.create(listing=listing, queued_at=now)
        Listing.objects.filter(id=listing.pk).update(
            next_check_at=scheduling.next_check_time(priority=listing.priority, now=now)
        )
    return check


def check_run_now(*, check_id: int, wait_max: float) -> CheckOutcome | None:
    """Run one check now, in this process, waiting up to `wait_max` seconds in all for the
    store's turn when pacing asks to; past that the check is left queued for the workers.

    Safe to run twice like `listing_check`: the check is claimed before it runs.
    """
    deadline = time.monotonic() + wait_max
    while True:
        outcome = listing_check(check_id=check_id)
        wait = outcome.requeue_in if outcome is not None else None
        if wait is None or time.monotonic() + wait > deadline:
            return outcome
        time.sleep(max(wait, 0.05))


@dataclass
class CheckOutcome:
    check: CheckLog
    result: ExtractionResult | None
    price_point: PricePoint | None
    price_changed: bool = False  # a new price point (False: the current one was confirmed)
    learn_pattern: bool = False  # the store needs a (new) pattern: tasks queue the learning
    requeue_in: float | None = None  # waiting for the store's turn: tasks send the check again
    fetch_error: FetchError | None = None  # why the page could not be read (its kind words the refusal)
    render_trial: bool = False  # a script shell: tasks queue one try in the browser


def listing_check(*, check_id: int) -> CheckOutcome | None:
    """Fetch the listing's page, extract the price and record it.

    Safe to run twice: the check is claimed with a conditional UPDATE (a second run of the
    same check finds it taken and returns None), and the price point's one-to-one link to
    its check makes a second price point for one check impossible.
    """
    now = timezone.now()
    # Taken, and read with all a check reads before it fetches, in one round trip (rows.py).
    claimed = rows.check_claim(check_id=check_id, at=now, pages_since=now - samples.PAGE_REFRESH)
    if claimed is None:
        return None  # taken by another run, or deleted with its listing since it was queued
    check = claimed.check
    listing = check.listing
    started = time.monotonic()
    result: ExtractionResult | None = None
    pattern = None
    http_status = None
    error = ""
    fetch_error: FetchError | None = None
    render_trial = False
    try:
        # Gate, robots.txt, the store's pace and circuit breaker, browser rendering if set.
        page = politeness.listing_fetch(listing=listing)
        http_status = page.status
        if page.not_modified:
            outcome = CheckLog.Outcome.UNCHANGED
        else:
            pattern = claimed.pattern
            result = extract(page.text, url=page.final_url, pattern=reads.pattern_spec(pattern))
            if result.flagged:
                outcome = CheckLog.Outcome.FLAGGED
                error = result.reason or "extraction layers disagree"
            elif result.price is None:
                outcome = CheckLog.Outcome.NO_PRICE
                error = result.reason or "no price found"
                if not (listing.store.render_js or listing.render_js) and script_shell(html=page.text):
                    render_trial = render_trial_claim(store=listing.store, html=page.text)
                    error = SHELL_REASON + ("; trying it once in a browser" if render_trial else "")
            elif not health.listing_price_history_ok(listing=listing, price=result.price):
                outcome = CheckLog.Outcome.FLAGGED
                error = f"price {result.price} is implausible against this listing's history (x10 or /10); not recorded"
            else:
                outcome = CheckLog.Outcome.OK
    except politeness.CheckSkipped as skipped:
        if skipped.requeue and check.attempts < CHECK_MAX_REQUEUES:
            return _requeue(check=check, skipped=skipped)
        return _record_skipped(check=check, skipped=skipped, started=started)
    except FetchError as exc:
        http_status = exc.http_status
        outcome = CheckLog.Outcome.BLOCKED if exc.kind == "blocked" else CheckLog.Outcome.ERROR
        error = str(exc)
        page = None
        fetch_error = exc
    duration_ms = int((time.monotonic() - started) * 1000)
    checked = _record(
        check=check,
        outcome=outcome,
        result=result,
        http_status=http_status,
        error=error,
        duration_ms=duration_ms,
        etag=(page.headers.get("ETag", "") if page is not None else None),
        last_modified=(page.headers.get("Last-Modified", "") if page is not None else None),
        page=page if result is not None else None,
        page_kept=claimed.page,
        routine=claimed.routine,
    )
    if checked is not None:
        checked.render_trial = render_trial
    if checked is not None and fetch_error is not None:
        checked.fetch_error = fetch_error
        scheduling.listing_retry_after_error(listing=listing, error=fetch_error)
    if checked is not None and result is not None:
        checked.learn_pattern = health.pattern_after_check(
            store=listing.store, pattern=pattern, result=result, outcome=outcome
        )
    return checked


CHECK_MAX_REQUEUES = 20


def _requeue(*, check: CheckLog, skipped: politeness.CheckSkipped) -> CheckOutcome | None:
    """Give the check back to the queue (the store's turn is seconds away). Nothing is recorded;
    the same check runs again, so it can still record only once."""
    queued = {"outcome": CheckLog.Outcome.QUEUED, "queued_at": timezone.now(), "error": skipped.reason[:2000]}
    if not CheckLog.objects.filter(id=check.pk, outcome=CheckLog.Outcome.RUNNING).update(**queued):
        return None
    for field, value in queued.items():
        setattr(check, field, value)
    return CheckOutcome(check=check, result=None, price_point=None, requeue_in=skipped.retry_in)


def _record_skipped(
    *, check: CheckLog, skipped: politeness.CheckSkipped, started: float
) -> CheckOutcome | None:
    """A check not made now (circuit open, robots.txt, the store's pace): nothing recorded
    but the reason, and the listing's next check moved to when it may go ahead."""
    now = timezone.now()
    listing = check.listing
    with transaction.atomic():
        taken = CheckLog.objects.filter(id=check.pk, outcome=CheckLog.Outcome.RUNNING).update(
            outcome=CheckLog.Outcome.SKIPPED,
            finished_at=now,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=skipped.reason[:2000],
        )
        if not taken:
            return None
        updates: dict = {"status_reason": skipped.reason[:500], "next_check_at": skipped.retry_at, "routine_check": None}
        if skipped.listing_status:
            updates["status"] = skipped.listing_status
        Listing.objects.filter(id=listing.pk).update(**updates)
        check.refresh_from_db()
        _send_check_finished(check=check, price_point=None)
    # Skipped because robots.txt could not be fetched: the fetch's error says why in plain
    # words (an unreachable shop), not "not checked now".
    cause = skipped.__cause__ if isinstance(skipped.__cause__, FetchError) else None
    return CheckOutcome(check=check, result=None, price_point=None, fetch_error=cause)


def _send_check_finished(
    *, check: CheckLog, price_point: PricePoint | None, changed: bool = False, at=None, row_id: int | None = None
) -> None:
    """Tell other apps (deals, metrics) once the check's transaction has committed. The
    receivers get what they need in the message, so they need no query of their own.
    `row_id`: the check log row that counts this check when it was folded into another."""
    listing = check.listing
    message = {
        "check_id": row_id or check.pk,
        "listing_id": listing.pk,
        "product_id": listing.product_id,
        "store": listing.store.domain,
        "method": check.method,
        "price_point_id": price_point.pk if price_point else None,
        "outcome": check.outcome,
        # False when the check confirmed the current price point; `checked_at` is when.
        "price_changed": changed,
        "checked_at": at,
        # The product's version as the check read it: receivers may keep what they know of a
        # product while it lasts (deals keeps whether it has alert rules).
        "product_updated_at": listing.product.updated_at,
    }
    transaction.on_commit(lambda: signals.check_finished.send(sender=CheckLog, **message))


_LISTING_STATUS = {
    CheckLog.Outcome.OK: Listing.Status.OK,
    CheckLog.Outcome.UNCHANGED: Listing.Status.OK,
    CheckLog.Outcome.NO_PRICE: Listing.Status.NO_PRICE,
    CheckLog.Outcome.FLAGGED: Listing.Status.FLAGGED,
    CheckLog.Outcome.ERROR: Listing.Status.ERROR,
    CheckLog.Outcome.BLOCKED: Listing.Status.BLOCKED,
}


def _record(
    *,
    check: CheckLog,
    outcome: str,
    result: ExtractionResult | None,
    http_status: int | None,
    error: str,
    duration_ms: int,
    etag: str | None,
    last_modified: str | None,
    page: FetchResult | None = None,
    page_kept: rows.PageKept | None = None,
    routine: CheckLog | None = None,
) -> CheckOutcome | None:
    """Record a finished check in one transaction: the check, the price point, the listing's
    state and the page it was read from (kept to learn and validate the store's pattern)."""
    now = timezone.now()
    listing = check.listing
    price_point = None
    finished: dict = {
        "outcome": outcome,
        "finished_at": now,
        "http_status": http_status,
        "duration_ms": duration_ms,
        "method": (result.method or "") if result else "",
        "error": error[:2000],
    }
    changed = False
    try:
        confirmed = _record_routine(
            check=check, outcome=outcome, result=result, finished=finished, now=now, etag=etag,
            last_modified=last_modified, page=page, page_kept=page_kept, routine=routine,
        )
    except _AlreadyFinished:
        return None
    if confirmed is not None:
        return confirmed
    try:
        with transaction.atomic():
            if outcome == CheckLog.Outcome.OK and result is not None:
                currency = result.currency or listing.currency or ""
                price_point, changed = _price_record(
                    listing=listing, check=check, result=result, currency=currency, now=now
                )
                finished["price_seen"] = price_point.pk
            routine = outcome == CheckLog.Outcome.UNCHANGED or (price_point is not None and not changed)
            folded_into = _fold_routine(check=check, finished=finished, now=now) if routine else None
            if folded_into is not None:
                # Its run's row counts it now: this check's own row goes (the claim still holds).
                taken = rows.row_delete(CheckLog, where={"id": check.pk, "outcome": CheckLog.Outcome.RUNNING})
            else:
                if routine:
                    finished["until"] = now  # the row this hour's next routine checks fold into
                taken = rows.row_update(
                    CheckLog, where={"id": check.pk, "outcome": CheckLog.Outcome.RUNNING}, values=finished
                )
            if not taken:
                raise _AlreadyFinished  # rolls back the price written above
            _record_listing(
                check=check, outcome=outcome, result=result, error=error, now=now, etag=etag,
                last_modified=last_modified, page=page, page_kept=page_kept, price_point=price_point, changed=changed,
                routine_check=(folded_into or check.pk) if routine else None,
            )
            for field, value in finished.items():
                setattr(check, field if field != "price_seen" else "price_seen_id", value)
            check.listing.routine_check_id = (folded_into or check.pk) if routine else None
            _send_check_finished(check=check, price_point=price_point, changed=changed, at=now, row_id=folded_into)
    except _AlreadyFinished:
        return None  # another run of this check finished it first
    log.info(
        "check finished",
        extra={"check_id": check.pk, "listing_id": listing.pk, "outcome": outcome, "ms": duration_ms},
    )
    return CheckOutcome(check=check, result=result, price_point=price_point, price_changed=changed)


class _AlreadyFinished(Exception):
    pass


class _NotRoutine(Exception):
    """A write of the routine path missed (the row changed since the claim read it)."""


def _record_routine(
    *, check: CheckLog, outcome: str, result: ExtractionResult | None, finished: dict, now, etag: str | None,
    last_modified: str | None, page: FetchResult | None, page_kept: rows.PageKept | None,
    routine: CheckLog | None,
) -> CheckOutcome | None:
    """The steady state of a tracker, recorded in one round trip: a check that confirms the
    current price (or finds the page not modified), folds into this hour's routine row, and
    has no page, store name or product name to write. Its four writes (confirm the point,
    fold, delete its own row, the listing's state) go together in one transaction
    (rows.rows_write), each with the conditions of the general path; if any missed (the rows
    changed since the claim read them), all are rolled back and the general path records the
    check. None: not such a check, or missed."""
    listing = check.listing
    confirms = outcome == CheckLog.Outcome.OK and result is not None and listing.last_point_id is not None
    if not (confirms or outcome == CheckLog.Outcome.UNCHANGED):
        return None
    if routine is None or routine.pk == check.pk or routine.finished_at is None:
        return None
    if routine.finished_at < now.replace(minute=0, second=0, microsecond=0):
        return None  # this hour's first routine check starts a row of its own
    if routine.method != finished["method"] or routine.http_status != finished["http_status"]:
        return None
    if page is not None and samples.page_save_needed(
        kept=page_kept, facts_hash=samples.page_facts_hash(result=result) if result is not None else "", now=now
    ):
        return None
    if (
        outcome == CheckLog.Outcome.OK and not listing.store.name and page is not None
        and stores.store_name_read(html=page.text, url=page.final_url)
    ):
        return None  # the store gets its name: the general path writes it
    if result is not None and _product_updates(listing=listing, result=result, image_url=_image_url(result)):
        return None
    point = None
    if confirms:
        currency = result.currency or listing.currency or ""
        same = {"price": result.price, "currency": currency, "in_stock": result.in_stock}
        if routine.outcome != outcome or routine.price_seen_id != listing.last_point_id:
            return None
        point = PricePoint(pk=listing.last_point_id, listing=listing, method=result.method or "", **same)
        finished["price_seen"] = point.pk
    elif routine.outcome != outcome or routine.price_seen_id is not None:
        return None
    writes = []
    if point is not None:
        writes.append(rows.update_write(
            PricePoint, where={"id": point.pk, "listing": listing.pk, **same},
            values={"last_confirmed_at": now}, add={"confirmations": 1},
        ))
    writes += [
        _fold_write(check=check, row_id=routine.pk, finished=finished, now=now),
        rows.delete_write(CheckLog, where={"id": check.pk, "outcome": CheckLog.Outcome.RUNNING}),
        rows.update_write(
            Listing, where={"id": listing.pk},
            values=_listing_updates(
                outcome=outcome, result=result, error=finished["error"], now=now, etag=etag,
                last_modified=last_modified, listing=listing, price_point=point, changed=False,
                routine_check=routine.pk,
            ),
        ),
    ]
    try:
        with transaction.atomic():
            counts = rows.rows_write(writes)
            if counts[-2] == 0 and all(counts[:-2]):
                raise _AlreadyFinished  # another run of this check finished it
            if not all(counts[:-1]):
                raise _NotRoutine
            for field, value in finished.items():
                setattr(check, field if field != "price_seen" else "price_seen_id", value)
            listing.routine_check_id = routine.pk
            _send_check_finished(check=check, price_point=point, changed=False, at=now, row_id=routine.pk)
    except _NotRoutine:
        finished.pop("price_seen", None)
        return None
    log.info(
        "check finished",
        extra={"check_id": check.pk, "listing_id": listing.pk, "outcome": outcome, "ms": finished["duration_ms"]},
    )
    return CheckOutcome(check=check, result=result, price_point=point, price_changed=False)


def _fold_routine(*, check: CheckLog, finished: dict, now) -> int | None:
    """Fold this routine check into the row of the listing's run of routine checks this hour;
    returns that row's id, or None when there is none to fold into.

    A routine check (the same price confirmed, or the page not modified) repeats the one before
    it, and its price point already counts it and keeps its time. One conditional UPDATE adds it
    to the listing's routine row when that row saw the same outcome, price point, method and
    HTTP status and finished in this UTC hour; the row keeps its first check's times (so
    counts per hour stay exact and no index entry moves) and takes this one's end (`until`),
    count and duration. Else this check's row starts a run of its own.
    """
    row_id = check.listing.routine_check_id
    if row_id is None or row_id == check.pk:
        return None
    write = _fold_write(check=check, row_id=row_id, finished=finished, now=now)
    return row_id if rows.rows_write([write])[0] else None


def _fold_write(*, check: CheckLog, row_id: int, finished: dict, now) -> rows.Write:
    """The conditional UPDATE that folds a routine check into row `row_id` (see _fold_routine)."""
    return rows.update_write(
        CheckLog,
        where={
            "id": row_id, "listing": check.listing_id, "outcome": finished["outcome"],
            "price_seen": finished.get("price_seen"), "method": finished["method"],
            "http_status": finished["http_status"],
        },
        since={"finished_at": now.replace(minute=0, second=0, microsecond=0)},
        values={"until": now},
        add={"checks": 1, "duration_ms": finished["duration_ms"] or 0},
    )


def _price_record(
    *, listing: Listing, check: CheckLog, result: ExtractionResult, currency: str, now
) -> tuple[PricePoint, bool]:
    """Extend the listing's current price point when this check found the same price,
    currency and stock; else start a new point. Returns (point, whether it is new).

    The extension is one conditional UPDATE that re-checks the price, currency and stock
    of the row itself, so a changed price is never merged into the point before it.
    """
    same = {"price": result.price, "currency": currency, "in_stock": result.in_stock}
    if listing.last_point_id is not None and rows.row_update(
        PricePoint,
        where={"id": listing.last_point_id, "listing": listing.pk, **same},
        values={"last_confirmed_at": now},
        add={"confirmations": 1},
    ):
        return PricePoint(pk=listing.last_point_id, listing=listing, method=result.method or "", **same), False
    # No savepoint: this run holds the check (its RUNNING state), so the one-to-one link to
    # the check cannot clash; if it ever did, the whole transaction rolls back.
    evidence = result.evidence or {}
    point = rows.row_insert(
        PricePoint(
            listing=listing, check_log=check, checked_at=now, method=result.method or "",
            evidence_source=(evidence.get("source") or "")[:200], evidence_text=(evidence.get("text") or "")[:200],
            **same,
        )
    )
    return point, True


def _record_listing(
    *, check: CheckLog, outcome: str, result: ExtractionResult | None, error: str, now, etag: str | None,
    last_modified: str | None, page: FetchResult | None, price_point: PricePoint | None, changed: bool = False,
    routine_check: int | None = None, page_kept: rows.PageKept | None = None,
) -> None:
    """The listing's (and its product's) state after a finished check, and the page it read."""
    listing = check.listing
    if page is not None:
        samples.listing_page_save(
            listing=listing, url=page.final_url, html=page.text,
            facts_hash=samples.page_facts_hash(result=result) if result is not None else "", now=now,
            kept=page_kept,
        )
        if outcome == CheckLog.Outcome.OK and not listing.store.name:
            stores.store_name_learn(store_id=listing.store_id, html=page.text, url=page.final_url)
    updates = _listing_updates(
        outcome=outcome, result=result, error=error, now=now, etag=etag, last_modified=last_modified,
        listing=listing, price_point=price_point, changed=changed, routine_check=routine_check,
    )
    failed = outcome not in (CheckLog.Outcome.OK, CheckLog.Outcome.UNCHANGED)
    rows.row_update(Listing, where={"id": listing.pk}, values=updates, add={"consecutive_failures": 1} if failed else {})
    product_updates = _product_updates(listing=listing, result=result, image_url=updates.get("image_url"))
    if product_updates:
        rows.row_update(Product, where={"id": listing.product_id}, values=product_updates)


def _listing_updates(
    *, outcome: str, result: ExtractionResult | None, error: str, now, etag: str | None, last_modified: str | None,
    listing: Listing, price_point: PricePoint | None, changed: bool, routine_check: int | None,
) -> dict:
    """The listing's columns after a finished check (a failure also adds one to its
    consecutive failures)."""
    updates: dict = {
        "status": _LISTING_STATUS.get(outcome, Listing.Status.ERROR),
        "status_reason": error[:500],
        "last_checked_at": now,
        # The row the next routine checks fold into; any other outcome ends the run.
        "routine_check": routine_check,
    }
    if outcome in (CheckLog.Outcome.OK, CheckLog.Outcome.UNCHANGED):
        updates["consecutive_failures"] = 0
    if etag is not None:
        updates["etag"] = (etag or "")[:300]
        updates["last_modified"] = (last_modified or "")[:100]
    if result is not None:
        if result.title:
            updates["title"] = result.title[:500]
        if _image_url(result):
            updates["image_url"] = result.image
    if price_point is not None:
        updates.update(
            last_price=price_point.price, currency=price_point.currency, in_stock=price_point.in_stock,
            last_point=price_point.pk,
        )
        updates.update(history.summary_after_check(listing=listing, price=price_point.price, changed=changed, now=now))
    return updates


def _image_url(result: ExtractionResult) -> str:
    """The page's image when it can be kept (an absolute http(s) URL of a sane length)."""
    image = result.image or ""
    return image if len(image) <= 2000 and image.startswith("http") else ""


def _product_updates(*, listing: Listing, result: ExtractionResult | None, image_url: str | None) -> dict:
    """The product's name and image from its first page read, while a person has set neither."""
    product = listing.product
    updates = {}
    if result is not None and result.title and product.name == listing.url[:300]:
        updates["name"] = result.title[:300]
    if result is not None and result.image and not product.image_url and image_url:
        updates["image_url"] = image_url
    return updates

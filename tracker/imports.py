"""Importing a list of URLs or a CSV (`url,name,priority,target_price`): parsed at once, then
handled row by row by a worker (tasks.import_run), each row through `adding.url_track`, the
add form's rule: its first check runs in the worker, and a page it finds no price on is refused
with the reason. The job keeps a result per row, which the import page polls.

A row costs its shop's answer, and up to IMPORT_CHECK_WAIT_MAX more when the shop's pace asks
to wait (rows of one shop follow each other at that pace). A task handles rows for
IMPORT_TASK_BUDGET seconds at most, then hands the rest to a new task, so a long import never
meets the task's time limit."""

from __future__ import annotations

import csv
import io
import time
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from .adding import url_track
from .models import ImportJob
from .signals import target_price_requested

COLUMNS = ("url", "name", "priority", "target_price")
MAX_ROWS = 5000
# Results are written in batches: rewriting the whole list after every row would cost
# quadratic writes on a long import. The page polls every second or two, so a batch is also
# written once SAVE_SECONDS have passed (a row waits on its shop's first check).
SAVE_EVERY = 20
SAVE_SECONDS = 2.0
# A worker has time a web request has not: a row waits this long for its shop's turn before
# it is refused as busy (30 checks a minute per shop: a row of a busy shop waits a few seconds).
IMPORT_CHECK_WAIT_MAX = 60.0
# Under the task's soft time limit (tasks.import_run), with room for one slow row.
IMPORT_TASK_BUDGET = 1200.0


class ImportRefused(ValueError):
    """The pasted text or file cannot be read as a list; the message says why."""


def import_rows_parse(*, text: str) -> list[dict]:
    """Rows from pasted text or an uploaded file: one URL a line, or CSV with the columns
    url,name,priority,target_price (a header row naming them is optional). Blank lines and
    lines starting with # are skipped; each row keeps its line number for the results."""
    rows: list[dict] = []
    header: list[str] | None = None
    reader = csv.reader(io.StringIO(text or "", newline=""))
    try:
        for cells in reader:
            cells = [cell.strip() for cell in cells]
            if not any(cells) or cells[0].startswith("#"):
                continue
            lowered = [cell.lower() for cell in cells]
            if header is None and not rows and "url" in lowered:
                header = lowered
                continue
            names = header or list(COLUMNS)
            row = {name: value for name, value in zip(names, cells, strict=False) if name in COLUMNS}
            row["line"] = reader.line_num
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise ImportRefused(f"at most {MAX_ROWS} rows per import")
    except csv.Error as exc:
        raise ImportRefused(f"line {reader.line_num} cannot be read as CSV: {exc}") from exc
    if not rows:
        raise ImportRefused("no URLs found: paste one URL a line, or CSV rows url,name,priority,target_price")
    return rows


def import_create(*, owner, text: str) -> ImportJob:
    """Record an import to run; raises ImportRefused when the text holds no rows."""
    rows = import_rows_parse(text=text)
    return ImportJob.objects.create(owner=owner, rows=rows, total=len(rows))


def _target(raw: str) -> Decimal | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ValueError(f"target price {raw!r} is not a number") from exc
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise ValueError(f"target price {raw!r} is out of range")
    return value.quantize(Decimal("0.01"))


def import_row_handle(*, owner, row: dict) -> dict:
    """One row's result: added, duplicate, or refused with the reason."""
    result = {"line": row.get("line"), "url": (row.get("url") or "")[:300], "product_id": None}
    try:
        target = _target(row.get("target_price", ""))
    except ValueError as exc:
        return {**result, "outcome": "refused", "message": str(exc)}
    found = url_track(
        owner=owner,
        url=row.get("url", ""),
        name=row.get("name", ""),
        priority=row.get("priority", ""),
        wait_max=IMPORT_CHECK_WAIT_MAX,
    )
    if found.listing is not None:
        result["product_id"] = found.listing.product_id
    if found.outcome == "added" and target is not None:
        target_price_requested.send(sender=ImportJob, product_id=found.listing.product_id, target_price=target)
    return {**result, "outcome": found.outcome, "message": found.message}


def import_run(*, job_id: int, budget: float | None = None) -> ImportJob | None:
    """Handle an import's rows for up to `budget` seconds (default IMPORT_TASK_BUDGET), at
    least one row; a job left RUNNING with rows to go is for the caller to run again. Safe to run twice: a job is claimed with a conditional
    UPDATE, and a job picked up again (after the budget, or a crash) resumes after the rows it
    has results for (a re-run row would answer "duplicate", never add twice).

    Rows are not wrapped in a transaction: a row's first check fetches a page, and a write
    transaction held open meanwhile would stall every other writer (SQLite)."""
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
    ).update(status=ImportJob.Status.RUNNING)
    if not claimed:
        return None
    job = ImportJob.objects.select_related("owner").get(pk=job_id)
    results = list(job.results)
    budget = IMPORT_TASK_BUDGET if budget is None else budget
    started = saved_at = time.monotonic()
    for index, row in enumerate(job.rows[len(results) :], start=len(results) + 1):
        results.append(import_row_handle(owner=job.owner, row=row))
        now = time.monotonic()
        if index % SAVE_EVERY == 0 or now - saved_at >= SAVE_SECONDS:
            ImportJob.objects.filter(pk=job.pk).update(results=results)
            saved_at = now
        if now - started >= budget and len(results) < len(job.rows):
            ImportJob.objects.filter(pk=job.pk).update(results=results)
            job.results = results
            return job
    job.results = results
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["results", "status", "finished_at"])
    return job


def import_status(*, job: ImportJob) -> dict:
    """What the import page polls and the API answers: JSON-ready."""
    counts = {"added": 0, "duplicate": 0, "refused": 0}
    for result in job.results:
        counts[result["outcome"]] = counts.get(result["outcome"], 0) + 1
    return {
        "id": job.pk,
        "status": job.status,
        "total": job.total,
        "done": len(job.results),
        "counts": counts,
        "results": job.results,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }

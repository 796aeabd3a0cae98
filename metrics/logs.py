"""Log lines as JSON (or plain text) carrying the request id, user id and Celery task."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from .context import request_id_var, task_id_var, task_name_var, user_id_var


class ContextFilter(logging.Filter):
    """Adds request_id, user_id, task_id and task_name to every record (empty when unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", "") or request_id_var.get()
        record.user_id = getattr(record, "user_id", "") or user_id_var.get()
        record.task_id = getattr(record, "task_id", "") or task_id_var.get()
        record.task_name = getattr(record, "task_name", "") or task_name_var.get()
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: timestamp (ISO 8601, UTC), level, logger, message, context.

    Anything passed in `extra=` is kept as its own key.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["timestamp"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
            timespec="milliseconds"
        )
        log_record["level"] = record.levelname
        log_record["logger"] = record.name
        for key in ("request_id", "user_id", "task_id", "task_name"):
            log_record[key] = getattr(record, key, "") or ""
        # The common keys first, so lines read well in a terminal too.
        rest = {k: v for k, v in log_record.items() if k not in _FIRST}
        first = {k: log_record[k] for k in _FIRST if k in log_record}
        log_record.clear()
        log_record.update(first)
        log_record.update(rest)


_FIRST = ("timestamp", "level", "logger", "message", "request_id", "user_id", "task_id", "task_name")

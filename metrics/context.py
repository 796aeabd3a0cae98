"""Who and what the current log line is about: request id, user id, Celery task.

Context variables, so each request thread and each task sees its own values.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
user_id_var: ContextVar[str] = ContextVar("user_id", default="")
task_id_var: ContextVar[str] = ContextVar("task_id", default="")
task_name_var: ContextVar[str] = ContextVar("task_name", default="")

# A request id from a client is kept only if it is short and plain (it ends up in logs).
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_accept(value: str | None) -> str:
    """The client's X-Request-ID when it is safe to log, else a fresh one."""
    if value and _SAFE_ID.match(value):
        return value
    return request_id_new()

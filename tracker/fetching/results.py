"""What a fetch gives back: a FetchResult, a FetchError saying why not, or CheckSkipped (not now)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone


class FetchError(Exception):
    """A page could not be fetched. `kind` says why, `transient` whether retrying may help.

    Kinds: invalid, refused, network, timeout, http, not_html, too_large, redirects, decode,
    blocked.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "network",
        http_status: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.http_status = http_status
        self.transient = transient
        self.retry_after = retry_after


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int
    text: str = ""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    elapsed_ms: int = 0
    not_modified: bool = False
    encoding: str = ""
    redirects: list[str] = field(default_factory=list)
    content: bytes = field(default=b"", repr=False)  # the body after decompression

    def json(self) -> Any:
        return json.loads(self.text)


HTML_TYPES = ("text/html", "application/xhtml+xml")
JSON_TYPES = ("application/json", "text/json")
TEXT_TYPES = ("text/plain",)
TRANSIENT_STATUSES = (408, 425, 429, 500, 502, 503, 504)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class CheckSkipped(Exception):
    """The check was not made now; `retry_at` says when to try again. Nothing is recorded."""

    def __init__(
        self,
        reason: str,
        *,
        retry_at: datetime,
        listing_status: str | None = None,
        requeue: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_at = retry_at
        self.listing_status = listing_status
        # A short wait for the store's turn: the same check goes back to the queue with a
        # countdown of at most FETCH_REQUEUE_MAX seconds instead of being skipped.
        self.requeue = requeue and (retry_at - timezone.now()).total_seconds() <= settings.FETCH_REQUEUE_MAX

    @property
    def retry_in(self) -> float:
        return max((self.retry_at - timezone.now()).total_seconds(), 0.0)

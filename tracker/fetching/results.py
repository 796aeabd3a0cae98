"""What a fetch gives back: a FetchResult, or a FetchError saying why not."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


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

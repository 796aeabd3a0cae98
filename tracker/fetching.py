"""Fetching product pages over HTTP.

Every fetch of a URL a person gave us goes through `fetch_page`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from django.conf import settings


class FetchError(Exception):
    """A page could not be fetched. `kind` says why, `transient` whether retrying may help."""

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


HTML_TYPES = ("text/html", "application/xhtml+xml")


def validate_url(url: str) -> str:
    """Check the form of a URL a person typed; returns it stripped or raises FetchError."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError("only http:// and https:// addresses can be tracked", kind="invalid")
    if not parts.hostname:
        raise FetchError("the address has no host name", kind="invalid")
    if parts.username or parts.password:
        raise FetchError("addresses with a user name or password are not allowed", kind="invalid")
    if "\\" in url:
        raise FetchError("the address contains a backslash", kind="invalid")
    return url


def fetch_page(url: str, *, etag: str = "", last_modified: str = "") -> FetchResult:
    """Fetch one HTML page with timeouts and a size cap."""
    url = validate_url(url)
    headers = {
        "User-Agent": settings.FETCH_USER_AGENT,
        "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
        "Accept-Language": "en;q=0.9,*;q=0.5",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    try:
        response = requests.get(
            url,
            headers=headers,
            timeout=(settings.FETCH_CONNECT_TIMEOUT, settings.FETCH_READ_TIMEOUT),
            stream=True,
            allow_redirects=True,
        )
    except requests.Timeout as exc:
        raise FetchError("the shop did not answer in time", kind="timeout", transient=True) from exc
    except requests.RequestException as exc:
        raise FetchError(f"could not reach the shop: {exc.__class__.__name__}", transient=True) from exc
    with response:
        elapsed = int((time.monotonic() - started) * 1000)
        if response.status_code == 304:
            return FetchResult(url, response.url, 304, elapsed_ms=elapsed, not_modified=True)
        if response.status_code >= 400:
            raise FetchError(
                f"the shop answered HTTP {response.status_code}",
                kind="http",
                http_status=response.status_code,
                transient=response.status_code in (408, 429, 500, 502, 503, 504),
            )
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type and content_type not in HTML_TYPES:
            raise FetchError(
                f"not a web page (content type {content_type})",
                kind="not_html",
                http_status=response.status_code,
            )
        body = bytearray()
        for chunk in response.iter_content(65536):
            body.extend(chunk)
            if len(body) > settings.FETCH_MAX_BYTES:
                raise FetchError("the page is larger than the size limit", kind="too_large")
        encoding = response.encoding if "charset" in response.headers.get("Content-Type", "") else None
        text = body.decode(encoding or response.apparent_encoding or "utf-8", errors="replace")
        return FetchResult(
            url,
            response.url,
            response.status_code,
            text=text,
            content_type=content_type,
            headers=dict(response.headers),
            elapsed_ms=int((time.monotonic() - started) * 1000),
        )

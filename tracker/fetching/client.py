"""Requests through the gate with every limit: redirects followed hop by hop, each gated."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import requests
from django.conf import settings

from . import blocking
from .addresses import GateRefused, validate_url
from .body import decode_body, read_body
from .gate import _Deadline, deadline_end, deadline_start, thread_session
from .proxies import proxy_failure, proxy_mask
from .results import (
    HTML_TYPES,
    JSON_TYPES,
    REDIRECT_STATUSES,
    TEXT_TYPES,
    TRANSIENT_STATUSES,
    FetchError,
    FetchResult,
)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    cap = float(getattr(settings, "FETCH_RETRY_AFTER_MAX", 6 * 3600))
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    seconds = when.timestamp() - (now if now is not None else time.time())
    return min(max(seconds, 0.0), cap)


def _accepted(content_type: str, accept: str) -> bool:
    if accept == "any":
        return True
    allowed: tuple[str, ...] = HTML_TYPES
    if accept == "json":
        allowed = JSON_TYPES
    elif accept == "text":
        allowed = TEXT_TYPES + HTML_TYPES
    if not content_type:
        return accept in ("html", "text")
    return content_type in allowed or (accept == "json" and content_type.endswith("+json"))


_ACCEPT_HEADERS = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    "json": "application/json,*/*;q=0.5",
    "text": "text/plain,*/*;q=0.5",
    "any": "*/*",
}


def safe_request(
    method: str,
    url: str,
    *,
    accept: str = "any",
    headers: dict[str, str] | None = None,
    data: bytes | str | None = None,
    json_body: Any = None,
    max_bytes: int | None = None,
    deadline: float | None = None,
    detect_blocks: bool = False,
    raise_for_status: bool = True,
    follow_redirects: bool = True,
    proxy: str | None = None,
) -> FetchResult:
    """Send one request through the gate with every limit, following gated redirects.

    `accept`: "html", "json", "text" (robots.txt) or "any" (no type check). Redirects are
    followed for GET/HEAD only (`follow_redirects=False` returns the 3xx instead). `proxy`: a
    proxy URL every hop goes through (`proxies.store_proxy`); the address policy still applies
    to each hop's address. Raises FetchError; a 304 returns `not_modified=True`.
    """
    url = validate_url(url)
    method = method.upper()
    limit = max_bytes or settings.FETCH_MAX_BYTES
    send_headers = {
        "User-Agent": settings.FETCH_USER_AGENT,
        "Accept": _ACCEPT_HEADERS.get(accept, "*/*"),
        "Accept-Language": "en;q=0.9,*;q=0.5",
        "Accept-Encoding": "gzip, deflate, br",
        # One connection per request: a check reaches a shop every few seconds at most, so
        # a kept-alive socket would idle; and every connection is resolved and checked anew.
        "Connection": "close",
    }
    send_headers.update(headers or {})
    session = thread_session()
    started = time.monotonic()
    guard = deadline_start(deadline or settings.FETCH_DEADLINE)
    redirects: list[str] = []
    try:
        current = url
        while True:
            response = _send(session, method, current, send_headers, data, json_body, guard, proxy)
            if follow_redirects and response.status_code in REDIRECT_STATUSES and method in ("GET", "HEAD"):
                location = response.headers.get("Location", "")
                response.close()
                if not location:
                    raise FetchError("the shop redirected without a destination", kind="redirects")
                if len(redirects) >= settings.FETCH_MAX_REDIRECTS:
                    raise FetchError(
                        f"more than {settings.FETCH_MAX_REDIRECTS} redirects", kind="redirects"
                    )
                target = urljoin(current, location.encode("latin-1", "replace").decode("utf-8", "replace"))
                try:
                    target = validate_url(target)
                except FetchError as exc:
                    raise FetchError(f"redirected to a refused address: {exc}", kind="refused") from exc
                if target in redirects or target == url:
                    raise FetchError("the shop's redirects go round in a loop", kind="redirects")
                redirects.append(target)
                current = target
                continue
            with response:
                return _finish(
                    response,
                    url=url,
                    accept=accept,
                    limit=limit,
                    guard=guard,
                    started=started,
                    redirects=redirects,
                    detect_blocks=detect_blocks,
                    raise_for_status=raise_for_status,
                )
    finally:
        deadline_end(guard)


def _send(session, method, url, headers, data, json_body, guard, proxy=None) -> requests.Response:  # type: ignore[no-untyped-def]
    response = _request(session, method, url, headers, data, json_body, guard, proxy)
    if proxy and response.status_code == 407:  # from the proxy, not the shop
        response.close()
        raise FetchError(f"the proxy {proxy_mask(proxy)} refused our credentials (HTTP 407)", kind="proxy")
    return response


def _request(session, method, url, headers, data, json_body, guard, proxy) -> requests.Response:  # type: ignore[no-untyped-def]
    try:
        return session.request(
            method,
            url,
            headers=headers,
            data=data,
            json=json_body,
            timeout=(settings.FETCH_CONNECT_TIMEOUT, settings.FETCH_READ_TIMEOUT),
            stream=True,
            allow_redirects=False,
            proxies={"http": proxy, "https": proxy} if proxy else None,
        )
    except GateRefused as exc:
        raise FetchError(f"refused: {exc}", kind="refused") from exc
    except requests.Timeout as exc:
        through = f" (through the proxy {proxy_mask(proxy)})" if proxy else ""
        raise FetchError(f"the shop did not answer in time{through}", kind="timeout", transient=True) from exc
    except requests.RequestException as exc:
        if guard.expired:
            raise FetchError("the download took longer than the deadline", kind="timeout", transient=True) from exc
        cause = exc.__context__ or exc.__cause__
        if isinstance(cause, GateRefused):
            raise FetchError(f"refused: {cause}", kind="refused") from exc
        if proxy and not str(exc).startswith("could not resolve"):
            raise proxy_failure(exc, proxy) from exc
        raise FetchError(f"could not reach the shop: {exc.__class__.__name__}", transient=True) from exc


def _finish(
    response: requests.Response,
    *,
    url: str,
    accept: str,
    limit: int,
    guard: _Deadline,
    started: float,
    redirects: list[str],
    detect_blocks: bool,
    raise_for_status: bool,
) -> FetchResult:
    status = response.status_code
    headers = dict(response.headers)
    raw_type = response.headers.get("Content-Type", "")
    content_type = raw_type.split(";")[0].strip().lower()
    final_url = redirects[-1] if redirects else url
    if status == 304:
        return FetchResult(url, final_url, 304, headers=headers, elapsed_ms=_ms(started), not_modified=True, redirects=redirects)
    if detect_blocks:
        reason = blocking.block_reason_from_headers(status=status, headers=headers)
        if reason:
            raise FetchError(f"blocked by the shop: {reason}", kind="blocked", http_status=status)
    if status >= 400 and raise_for_status:
        text = ""
        if detect_blocks and content_type in HTML_TYPES + ("",):
            try:
                text, _ = decode_body(read_body(response, limit=min(limit, 512 * 1024), deadline=guard), content_type=raw_type)
            except FetchError:
                text = ""
            refuse_block_page(status=status, headers=headers, text=text)
        raise FetchError(
            f"the shop answered HTTP {status}",
            kind="http",
            http_status=status,
            transient=status in TRANSIENT_STATUSES,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if not _accepted(content_type, accept):
        kind_name = {"json": "JSON", "text": "text"}.get(accept, "web page")
        raise FetchError(f"not a {kind_name} (content type {content_type})", kind="not_html", http_status=status)
    body = read_body(response, limit=limit, deadline=guard)
    text, encoding = decode_body(body, content_type=raw_type)
    if detect_blocks:
        refuse_block_page(status=status, headers=headers, text=text)
    return FetchResult(
        url,
        final_url,
        status,
        text=text,
        content_type=content_type,
        headers=headers,
        elapsed_ms=_ms(started),
        encoding=encoding,
        redirects=redirects,
        content=bytes(body) if accept == "any" else b"",  # kept only for callers that pass bytes on
    )


def refuse_block_page(*, status: int, headers, text: str) -> None:
    """Raise FetchError (kind "blocked", with the reason) when the page is a captcha, a bot
    challenge or an access-denied page: such a page is never read for a price."""
    reason = blocking.block_reason(status=status, headers=headers, text=text)
    if reason:
        raise FetchError(f"blocked by the shop: {reason}", kind="blocked", http_status=status)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def safe_get(url: str, *, accept: str = "html", headers: dict[str, str] | None = None, **kwargs: Any) -> FetchResult:
    """GET through the gate with every limit. For robots.txt use accept="text", for feeds "json"."""
    return safe_request("GET", url, accept=accept, headers=headers, **kwargs)


def fetch_page(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    user_agent: str | None = None,
    proxy: str | None = None,
) -> FetchResult:
    """Fetch one product page: HTML only, conditional, block and challenge pages refused."""
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    if user_agent:
        headers["User-Agent"] = user_agent
    return safe_request("GET", url, accept="html", headers=headers, detect_blocks=True, proxy=proxy)

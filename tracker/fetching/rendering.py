"""Pages that need JavaScript: rendered by the system Chromium through Playwright.

Used for stores with `render_js`, on the Celery queue `browser` (so a slow browser never
delays ordinary checks). The browser itself never touches the network:

- every request the page makes is intercepted (`page.route`) and fetched by us through the
  fetch gate (`safe_request`), with its limits; a refused address is aborted; a store's proxy
  is used by these fetches, so Chromium never needs to know it (SOCKS5 with a password works);
- Chromium is started with a dead proxy on loopback and a resolver that resolves nothing, so
  anything that slipped past interception (preconnect, WebSocket, WebRTC) goes nowhere;
- images, media and fonts are not loaded; a page may make RENDER_MAX_REQUESTS requests and
  load RENDER_MAX_TOTAL_BYTES in total, within FETCH_DEADLINE.

One browser per worker process, one page at a time, restarted after RENDER_PAGES_PER_BROWSER
pages so its memory cannot grow without bound.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from . import FetchError, FetchResult, refuse_block_page, safe_request, validate_url

log = logging.getLogger(__name__)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--dns-prefetch-disable",
    # Nothing Chromium sends by itself leaves the machine: a closed port on loopback as proxy,
    # no implicit loopback bypass, no name resolution, no UDP for WebRTC.
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
]
SKIPPED_RESOURCES = {"image", "media", "font", "stylesheet", "manifest", "texttrack", "eventsource", "websocket"}
_HOP_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"}


class RenderUnavailable(FetchError):
    def __init__(self, message: str) -> None:
        super().__init__(message, kind="render_unavailable", transient=True)


def chromium_available() -> bool:
    return Path(settings.RENDER_CHROMIUM_PATH).is_file()


class _Pool:
    """The process's browser: started on first use, restarted after N pages or a crash.

    Playwright's sync API keeps an event loop in the thread that uses it, and Django refuses
    database calls from a thread with an event loop; so the browser lives in a thread of its
    own and pages are rendered there, one at a time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_pid = 0
        self._pid = 0
        self._playwright = None
        self._browser = None
        self.pages = 0
        self.launches = 0

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=settings.RENDER_CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True
        )
        self._pid = os.getpid()
        self.pages = 0
        self.launches += 1

    def run(self, fn, *args, timeout: float):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._executor is None or self._executor_pid != os.getpid():
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser")
                self._executor_pid = os.getpid()
                self._browser = self._playwright = None  # a forked child does not own the parent's
            executor = self._executor
        future = executor.submit(fn, *args)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout as exc:
            raise FetchError("the browser did not finish in time", kind="timeout", transient=True) from exc

    def close(self) -> None:
        if self._executor is not None and self._executor_pid == os.getpid():
            self._executor.submit(self._close).result(timeout=30)

    def _close(self) -> None:
        try:
            if self._browser is not None and self._pid == os.getpid():
                self._browser.close()
            if self._playwright is not None and self._pid == os.getpid():
                self._playwright.stop()
        except Exception:  # a crashed browser cannot be closed politely
            log.warning("browser did not close cleanly", exc_info=True)
        self._browser = self._playwright = None

    def browser(self):  # type: ignore[no-untyped-def]
        if self._pid != os.getpid():  # forked: the parent's browser is not ours
            self._browser = self._playwright = None
        if self._browser is not None and (
            not self._browser.is_connected() or self.pages >= settings.RENDER_PAGES_PER_BROWSER
        ):
            self._close()
        if self._browser is None:
            if not chromium_available():
                raise RenderUnavailable(f"no browser at {settings.RENDER_CHROMIUM_PATH}")
            self._start()
        self.pages += 1
        return self._browser


_pool = _Pool()


@dataclass
class _Budget:
    deadline: float
    requests: int = 0
    bytes: int = 0
    refused: list[str] = field(default_factory=list)
    navigations: int = 0
    main: FetchResult | None = None


def _fulfil(route, request, budget: _Budget, main_url: str, proxy: str | None = None) -> None:  # type: ignore[no-untyped-def]
    is_main = request.is_navigation_request() and request.resource_type == "document"
    if not is_main and request.resource_type in SKIPPED_RESOURCES:
        route.abort("blockedbyclient")
        return
    remaining = budget.deadline - time.monotonic()
    if budget.requests >= settings.RENDER_MAX_REQUESTS or remaining <= 0.5:
        route.abort("blockedbyclient")
        return
    if request.method not in ("GET", "POST", "HEAD"):
        route.abort("blockedbyclient")
        return
    budget.requests += 1
    if is_main:
        budget.navigations += 1
        if budget.navigations > settings.FETCH_MAX_REDIRECTS + 1:
            route.abort("blockedbyclient")
            raise _MainFailed(FetchError(f"more than {settings.FETCH_MAX_REDIRECTS} redirects", kind="redirects"))
    headers = {
        k: v
        for k, v in request.headers.items()
        if k.lower() in ("accept", "content-type", "accept-language", "referer", "x-requested-with")
    }
    try:
        result = safe_request(
            request.method,
            request.url,
            accept="any",
            headers=headers,
            data=request.post_data_buffer if request.method == "POST" else None,
            max_bytes=max(1, min(settings.FETCH_MAX_BYTES, settings.RENDER_MAX_TOTAL_BYTES - budget.bytes)),
            deadline=remaining,
            raise_for_status=False,
            # Chromium follows a fulfilled 3xx itself, past the interception (into the dead
            # proxy): so redirects are followed here, through the gate.
            follow_redirects=True,
            proxy=proxy,
        )
    except FetchError as exc:
        if exc.kind in ("refused", "invalid"):
            budget.refused.append(request.url)
        if is_main:
            budget.main = None
            route.abort("blockedbyclient" if exc.kind in ("refused", "invalid") else "failed")
            raise _MainFailed(exc) from exc
        route.abort("blockedbyclient" if exc.kind in ("refused", "invalid") else "failed")
        return
    budget.bytes += len(result.content)
    if is_main:
        budget.main = result
    route.fulfill(
        status=result.status,
        headers={k: v for k, v in result.headers.items() if k.lower() not in _HOP_HEADERS},
        body=result.content,
    )


class _MainFailed(Exception):
    def __init__(self, error: FetchError) -> None:
        super().__init__(str(error))
        self.error = error


def render_page(url: str, *, proxy: str | None = None) -> FetchResult:
    """Render `url` in Chromium (every request through the fetch gate, and through `proxy` when
    given) and return its HTML.

    Raises FetchError like `fetch_page`: refused addresses, HTTP errors, block pages, size
    and time limits.
    """
    url = validate_url(url)
    return _pool.run(_render, url, proxy, timeout=settings.FETCH_DEADLINE + 30)


def _render(url: str, proxy: str | None = None) -> FetchResult:
    from playwright.sync_api import Error as PlaywrightError

    started = time.monotonic()
    budget = _Budget(deadline=started + settings.FETCH_DEADLINE)
    main_error: list[FetchError] = []
    # One page at a time: this runs in the pool's single browser thread.
    browser = _pool.browser()
    context = browser.new_context(
        user_agent=settings.FETCH_USER_AGENT,
        service_workers="block",
        accept_downloads=False,
        java_script_enabled=True,
    )
    try:
        page = context.new_page()

        def handler(route, request):  # type: ignore[no-untyped-def]
            try:
                _fulfil(route, request, budget, url, proxy)
            except _MainFailed as failed:
                main_error.append(failed.error)

        context.route("**/*", handler)
        timeout_ms = max(1000, int((budget.deadline - time.monotonic()) * 1000))
        try:
            page.goto(url, wait_until="load", timeout=timeout_ms)
            remaining_ms = int((budget.deadline - time.monotonic()) * 1000)
            if remaining_ms > 500:
                try:
                    page.wait_for_load_state("networkidle", timeout=min(remaining_ms, 2000))
                except PlaywrightError:
                    pass  # a page that keeps polling: take what it shows now
            html = page.content()
        except PlaywrightError as exc:
            if main_error:
                raise main_error[0] from exc
            if time.monotonic() >= budget.deadline - 0.5:
                raise FetchError("the page took longer than the deadline to render", kind="timeout", transient=True) from exc
            raise FetchError(f"the browser could not load the page: {str(exc).splitlines()[0][:200]}", transient=True) from exc
        final_url = budget.main.final_url if budget.main else page.url
    finally:
        context.close()
    if main_error:
        raise main_error[0]
    main = budget.main
    status = main.status if main else 200
    headers = main.headers if main else {}
    if status >= 400:
        raise FetchError(f"the shop answered HTTP {status}", kind="http", http_status=status, transient=status in (429, 500, 502, 503, 504))
    if len(html.encode("utf-8", "replace")) > settings.FETCH_MAX_BYTES:
        raise FetchError("the rendered page is larger than the size limit", kind="too_large")
    refuse_block_page(status=status, headers=headers, text=html)
    return FetchResult(
        url,
        final_url,
        status,
        text=html,
        content_type="text/html",
        headers=headers,
        elapsed_ms=int((time.monotonic() - started) * 1000),
        encoding="utf-8",
    )


def pool_stats() -> dict:
    """For metrics: this process's browser launches and pages rendered by the current one."""
    return {"launches": _pool.launches, "pages": _pool.pages, "running": _pool._browser is not None}

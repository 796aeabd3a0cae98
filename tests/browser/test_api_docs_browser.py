"""The API docs page renders in a browser under the site's Content-Security-Policy (its
scripts are served locally, no CDN)."""

from __future__ import annotations

import pytest

from tests.browser.test_ui_browser import CHROMIUM, TIMEOUT_MS, browser  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed at /usr/bin/chromium"),
]


def test_the_docs_page_lists_the_operations(browser, live_server, transactional_db):  # noqa: F811
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    blocked: list[str] = []
    page.on("console", lambda message: message.type == "error" and blocked.append(message.text))
    outside: list[str] = []
    page.on("request", lambda request: "localhost" not in request.url and "127.0.0.1" not in request.url
            and not request.url.startswith("data:") and outside.append(request.url))
    page.goto(f"{live_server.url}/api/v1/docs")
    page.get_by_text("/api/v1/products/{product_id}/state", exact=True).first.wait_for()
    assert "PriceTracker API" in page.inner_text("body")
    assert outside == []
    assert not [text for text in blocked if "Content Security Policy" in text and "script" in text]

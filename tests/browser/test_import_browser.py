"""The import page in headless Chromium: paste a list, watch the progress as a worker (here the
test, standing in for it) handles the rows, see each row's result without reloading."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_ui_browser import (  # noqa: F401 - fixtures
    CHROMIUM,
    TIMEOUT_MS,
    _log_in,
    browser,
    person,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed at /usr/bin/chromium"),
]


def test_an_import_shows_its_progress_and_each_rows_result(browser, live_server, person, demo_shop, settings):  # noqa: F811
    from tracker.imports import import_run
    from tracker.models import ImportJob

    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]  # each row's first check reads the demo shop
    kettle = demo_shop.product_url("aurora-espresso-machine")

    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    _log_in(page, live_server)
    page.click("text=Import a list of URLs")
    page.fill("#id_text", f"{kettle}\n{kettle}\nftp://127.0.0.1/file\n")
    page.click("button.primary:has-text('Import')")
    page.wait_for_url(re.compile(r".*/import/\d+/$"))
    assert "0 of 3 rows handled" in page.inner_text("#import")
    assert "Working" in page.inner_text(".import-state")

    import_run(job_id=ImportJob.objects.get(owner=person).pk)  # what the worker does

    page.wait_for_selector("text=Done.")
    rows = page.locator(".import-results tbody tr")
    assert rows.count() == 3
    assert [rows.nth(n).get_attribute("class") for n in range(3)] == [
        "outcome-added", "outcome-duplicate", "outcome-refused"
    ]
    assert "cannot be tracked" in rows.nth(2).inner_text()
    assert "3 of 3 rows handled" in page.inner_text("#import")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert console_errors == []

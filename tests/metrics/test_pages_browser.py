"""The metrics dashboard and quality page in headless Chromium, with data and without.

Also watches for Content-Security-Policy refusals on the pages a person uses (login, admin,
dashboard). Screenshots go to `UI_SCREENSHOT_DIR` when set, else the test's tmp folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .test_pages import recorded  # noqa: F401  (fixture)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed at /usr/bin/chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture
def page(live_server, django_user_model):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    django_user_model.objects.create_user(username="ops", password="pw-ops-12345", is_staff=True,
                                          is_superuser=True)
    refused: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        tab = browser.new_page(viewport={"width": 1200, "height": 900})
        tab.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
        response = tab.goto(f"{live_server.url}/accounts/login/")
        assert response.status == 200, tab.content()[:2000]
        tab.fill("input[name=username]", "ops")
        tab.fill("input[name=password]", "pw-ops-12345")
        tab.click("button[type=submit]")
        tab.wait_for_load_state()
        tab.refused = refused
        yield tab
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _shot(tab, tmp_path, name: str) -> Path:
    folder = Path(os.environ.get("UI_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.django_db(transaction=True)
def test_dashboard_and_quality_page_without_data(page, live_server, tmp_path):
    page.goto(f"{live_server.url}/metrics/dashboard/?days=7")
    assert page.locator("h1").inner_text() == "Metrics"
    assert page.locator("svg.chart").count() >= 3
    assert "No data in this period" in page.content()
    _shot(page, tmp_path, "metrics-dashboard-empty")
    page.goto(f"{live_server.url}/metrics/quality/")
    assert page.locator("span.verdict").count() == 5
    assert page.locator("span.verdict.fail").count() == 0
    assert page.refused == []


@pytest.mark.django_db(transaction=True)
def test_dashboard_and_quality_page_with_data(page, live_server, tmp_path, recorded):  # noqa: F811
    page.goto(f"{live_server.url}/metrics/dashboard/?days=1")
    page.click("text=7 days")
    assert page.url.endswith("?days=7")
    # drawn twice (wide, and narrow for phones): once in the drawing this screen shows
    assert page.locator(".wide svg.chart rect title", has_text="good.test: 95% of 20").count() == 1
    assert page.locator("text=blocking.test").count() >= 1
    _shot(page, tmp_path, "metrics-dashboard")
    page.goto(f"{live_server.url}/metrics/quality/")
    assert page.locator("tr.broken_stores span.verdict").inner_text() == "FAIL"
    assert page.locator("tr.check_success span.verdict").inner_text() == "PASS"
    _shot(page, tmp_path, "metrics-quality")
    page.goto(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/tracker/store/")
    assert page.refused == [], page.refused

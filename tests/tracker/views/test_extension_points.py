"""Extension points for other apps: nav links and dashboard data, one call per page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .listings import make_listing

pytestmark = pytest.mark.django_db


# --- Extension points for other apps ------------------------------------------------------------


@pytest.fixture
def clean_ui(monkeypatch):
    from tracker import ui

    monkeypatch.setattr(ui, "_nav_links", {})
    monkeypatch.setattr(ui, "_dashboard_annotators", {})
    return ui


def test_other_apps_add_nav_links_and_dashboard_data_in_one_call_per_page(logged_in, user, clean_ui):
    for n in range(3):
        make_listing(user, name=f"P{n}", url=f"https://shop.test/p{n}", prices=["10"])
    calls = []

    def annotate(*, request, rows):
        calls.append(len(rows))
        for row in rows:
            row.extra["note"] = f"note for {row.product.name}"

    clean_ui.dashboard_rows_register(annotate)
    clean_ui.nav_link_register(label="Log in again", url_name="login", order=5)
    clean_ui.nav_link_register(label="Not wired yet", url_name="nowhere:index")
    response = logged_in.get(reverse("tracker:dashboard"))
    assert calls == [3]
    assert [row.extra["note"] for row in response.context["rows"]] == ["note for P2", "note for P1", "note for P0"]
    page = response.content.decode()
    assert f'href="{reverse("login")}">Log in again</a>' in page
    assert "Not wired yet" not in page

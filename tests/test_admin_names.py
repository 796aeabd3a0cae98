"""The admin names every model in plain English (no "Watchs", "Deal matchs", "Llm calls")."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse


def test_models_have_their_right_plural_names():
    plurals = {model.__name__: str(model._meta.verbose_name_plural) for model in admin.site._registry}
    assert plurals["Watch"] == "watches"
    assert plurals["DealMatch"] == "deal matches"
    assert plurals["LLMCall"] == "LLM calls"
    assert plurals["NotificationSettings"] == "quiet hours"
    assert not [name for name in plurals.values() if name.endswith(("chs", "shs", "sss", "ss"))]


@pytest.mark.django_db
def test_the_admin_index_shows_them(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert ">Watches<" in page and ">Deal matches<" in page and ">LLM calls<" in page
    assert "Watchs" not in page and "matchs" not in page and "Llm" not in page

"""Telling a script shell (the price drawn by JavaScript) from a page that simply has no price,
on saved pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.fetching.shells import script_shell

SHELLS = Path(__file__).parent / "shells"


@pytest.mark.parametrize("name", ["spa_root_div.html", "spa_custom_element.html", "spa_with_state.html"])
def test_a_script_shell_is_recognised(name):
    assert script_shell(html=(SHELLS / name).read_text()) is True


@pytest.mark.parametrize(
    "name",
    [
        "product_without_price.html",  # scripts and an empty badge, but a page a person can read
        "not_found.html",  # little text, no scripts
        "short_static_no_mount.html",  # little text and scripts, but nothing for them to fill
    ],
)
def test_a_page_that_is_not_a_shell_is_not_called_one(name):
    assert script_shell(html=(SHELLS / name).read_text()) is False


@pytest.mark.parametrize("html", ["", "   ", "<", "\x00\x00", "<html></html>"])
def test_nothing_or_garbage_is_not_a_shell(html):
    assert script_shell(html=html) is False

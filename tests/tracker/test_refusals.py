"""Why a page was not kept, in plain words (tracker.refusals): pure, from a finished check."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests

from tracker.fetching import FetchError
from tracker.models import CheckLog
from tracker.refusals import refusal_for


def _outcome(outcome: str, *, http_status=None, error="", fetch_error=None):
    check = CheckLog(outcome=outcome, http_status=http_status, error=error)
    return SimpleNamespace(check=check, fetch_error=fetch_error)


def _unresolved() -> FetchError:
    try:
        try:
            raise requests.ConnectionError("could not resolve shop.invalid-name.test")
        except requests.ConnectionError as exc:
            raise FetchError("could not reach the shop: ConnectionError", transient=True) from exc
    except FetchError as error:
        return error


@pytest.mark.parametrize(
    ("outcome", "plain"),
    [
        (_outcome("error", http_status=404, error="the shop answered HTTP 404",
                  fetch_error=FetchError("the shop answered HTTP 404", kind="http", http_status=404)),
         "does not exist (HTTP 404)"),
        (_outcome("error", http_status=503, error="the shop answered HTTP 503",
                  fetch_error=FetchError("the shop answered HTTP 503", kind="http", http_status=503)),
         "failed to show the page (HTTP 503)"),
        (_outcome("error", error="not a web page (content type application/pdf)",
                  fetch_error=FetchError("not a web page", kind="not_html", http_status=200)),
         "a file (a PDF"),
        (_outcome("error", error="could not reach the shop: ConnectionError", fetch_error=_unresolved()),
         "No site answers to this name"),
        (_outcome("error", error="the shop did not answer in time",
                  fetch_error=FetchError("the shop did not answer in time", kind="timeout", transient=True)),
         "took too long"),
        (_outcome("no_price", http_status=200, error="no price found"), "shows no price we can read"),
        (_outcome("flagged", http_status=200, error="layers disagree"), "looks doubtful"),
        (_outcome("blocked", http_status=403, error="blocked by the shop: captcha",
                  fetch_error=FetchError("blocked by the shop: captcha", kind="blocked", http_status=403)),
         "blocks automated price checks"),
        (_outcome("queued"), "could not be checked in time"),
    ],
    ids=["404", "503", "pdf", "unknown-name", "timeout", "no-price", "doubtful", "blocked", "busy"],
)
def test_each_failure_has_its_plain_reason_and_keeps_the_technical_detail(outcome, plain):
    refusal = refusal_for(outcome=outcome)
    assert plain in refusal.reason
    assert outcome.check.error in refusal.detail  # the developer's words are kept, apart
    assert "outcome:" not in refusal.reason


def test_no_outcome_at_all_says_to_try_again():
    assert "try again" in refusal_for(outcome=None).reason

"""Why a page was not kept, in words a shopper reads, with the technical detail kept apart.

Pure: reads a finished first check (outcome, HTTP status, fetch error kind, message) and
returns text. The add form shows `reason`, and `detail` behind a "details" toggle.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import CheckLog


@dataclass(frozen=True)
class Refusal:
    reason: str  # plain words, for everyone
    detail: str  # what the check recorded, for whoever wants to dig


_BY_KIND = {
    "not_html": "This address is a file (a PDF, an image or a download), not a product page.",
    "timeout": "The shop took too long to answer. It may be down for a moment.",
    "network": "The shop could not be reached: the address may be mistyped, or the site is down.",
    "refused": "This address cannot be visited from here (a private or refused address, or a name that does not exist).",
    "redirects": "The shop keeps redirecting the page without ever showing it.",
    "too_large": "The page is too large to read.",
    "decode": "The page arrived damaged and could not be read.",
    "blocked": "The shop refused our visit: it blocks automated price checks.",
    "proxy": "The proxy this shop is reached through could not be used; an administrator must check it.",
    "render_unavailable": "This shop shows prices only in a browser, and none could be started for this first check. "
    "Keep it to let the browser worker check it.",
}

_BY_OUTCOME = {
    CheckLog.Outcome.NO_PRICE: "The page opened, but it shows no price we can read. It may not be a product page, or the price appears only after a script runs.",
    CheckLog.Outcome.FLAGGED: "A price was found, but it looks doubtful, so it was not recorded.",
    CheckLog.Outcome.BLOCKED: _BY_KIND["blocked"],
    CheckLog.Outcome.SKIPPED: "The page was not checked now (the shop's robots.txt, or it asked us to slow down).",
    CheckLog.Outcome.QUEUED: "The shop is busy with other checks; the page could not be checked in time.",
}


def refusal_for(*, outcome) -> Refusal:
    """Words for a first check that recorded no price (`outcome`: a checking.CheckOutcome or None)."""
    if outcome is None:
        return Refusal(reason="The check was taken by another process; try again.", detail="")
    check = outcome.check
    error = getattr(outcome, "fetch_error", None)
    detail = "; ".join(
        part
        for part in (
            f"outcome: {check.get_outcome_display()}",
            f"HTTP {check.http_status}" if check.http_status else "",
            f"{error.kind} error" if error is not None else "",
            check.error,
        )
        if part
    )
    status = check.http_status or 0
    if error is not None and error.kind == "http" or (check.outcome == CheckLog.Outcome.ERROR and status >= 400):
        if status in (404, 410):
            reason = f"The shop says this page does not exist (HTTP {status}). Check the address."
        elif status >= 500:
            reason = f"The shop's server failed to show the page (HTTP {status}). It may work later."
        else:
            reason = f"The shop would not show the page (HTTP {status})."
        return Refusal(reason=reason, detail=detail)
    if error is not None and _unresolved(error):
        return Refusal(
            reason="No site answers to this name: check the address for a typo.",
            detail=f"{detail}; the name did not resolve",
        )
    if error is not None:
        return Refusal(reason=_BY_KIND.get(error.kind, "The page could not be read."), detail=detail)
    reason = _BY_OUTCOME.get(check.outcome, "The first check found no price.")
    return Refusal(reason=reason, detail=detail)


def _unresolved(error) -> bool:
    """The host name has no address (the fetch layer says so in the cause it chains)."""
    cause = error
    for _ in range(4):
        if cause is None:
            return False
        if "could not resolve" in str(cause):
            return True
        cause = cause.__cause__ or cause.__context__
    return False

"""Recognising pages that are not the product: bot challenges, captchas, "access denied".

Pure: takes a status, headers and text and returns a reason (fit to show a person) or None.
A page flagged here is never handed to extraction, so no price is read off a challenge page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# (vendor, marker) pairs: strings that appear on a vendor's challenge or block page and
# not on ordinary shop pages. Matched case-insensitively.
CHALLENGE_MARKERS: tuple[tuple[str, str], ...] = (
    # Not the bare /cdn-cgi/challenge-platform/: JavaScript Detections load from there on
    # ordinary pages. The challenge page orchestrates from it.
    ("Cloudflare", "/cdn-cgi/challenge-platform/h/g/orchestrate/"),
    ("Cloudflare", "/cdn-cgi/challenge-platform/h/b/orchestrate/"),
    ("Cloudflare", "window._cf_chl_opt"),
    ("Cloudflare", "cf-browser-verification"),
    ("Cloudflare", "cf_chl_jschl"),
    ("Cloudflare", "attention required! | cloudflare"),
    ("Cloudflare", "challenges.cloudflare.com/turnstile"),
    ("Cloudflare", "cf-error-details"),
    ("PerimeterX", "_pxcaptcha"),
    ("PerimeterX", "px-captcha"),
    ("PerimeterX", "window._pxappid"),
    ("PerimeterX", "captcha.px-cdn.net"),
    ("DataDome", "captcha-delivery.com"),
    ("DataDome", "window.ddjskey"),
    ("Akamai", "/_sec/cp_challenge/"),
    ("Akamai", "sec-if-cpt-container"),
    ("Akamai", "errors.edgesuite.net"),
    ("Imperva Incapsula", "_incapsula_resource"),
    ("Imperva Incapsula", "incapsula incident id"),
    ("Amazon", "to discuss automated access to amazon data"),
    ("Sucuri", "sucuri website firewall - access denied"),
    ("Kasada", "kpsdk"),
)

CAPTCHA_WIDGETS: tuple[str, ...] = (
    "hcaptcha.com/1/api.js",
    'class="h-captcha"',
    "google.com/recaptcha/api.js",
    "recaptcha/api2",
    'class="g-recaptcha"',
    "challenges.cloudflare.com/turnstile",
)

_BLOCK_TITLE = re.compile(
    r"access denied|access to this page has been denied|request blocked|you have been blocked|"
    r"are you a (human|robot)|just a moment|attention required|security check|captcha|"
    r"pardon our interruption|bot verification|verify you are human|^403 forbidden|"
    r"unusual traffic",
    re.IGNORECASE,
)
_BLOCK_TEXT = re.compile(
    r"you don'?t have permission to access|access (to this page )?(has been |is )?denied|"
    r"verify (that )?you are (a )?human|are you a robot|unusual traffic from your|"
    r"please enable (javascript and )?cookies to continue|press (&|&amp;|and) hold|"
    r"checking (if the site connection is secure|your browser before accessing)|"
    r"automated (access|requests|queries)|we have detected unusual activity",
    re.IGNORECASE,
)
# Cheap substring tests before the _BLOCK_TEXT regex (which is slow on a whole page).
_BLOCK_WORDS = (
    "permission to access", "denied", "human", "robot", "unusual", "enable javascript and cookies",
    "enable cookies", "& hold", "&amp; hold", "and hold", "checking if the site", "checking your browser", "automated",
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_INVISIBLE = re.compile(
    r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<noscript\b.*?</noscript\s*>|"
    r"<template\b.*?</template\s*>|<svg\b.*?</svg\s*>",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_STRUCTURED_PRICE = re.compile(
    rb"application/ld\+json|itemprop=[\"']?(price|offers)|property=[\"'](og|product):price",
    re.IGNORECASE,
)
# The markers are ASCII, so the page is searched as lower-cased UTF-8 bytes: bytes.lower() is
# several times faster than str.lower() on a page with a single non-ASCII character.
_MARKERS = tuple((vendor, marker.encode()) for vendor, marker in CHALLENGE_MARKERS)
_WIDGETS = tuple(widget.encode() for widget in CAPTCHA_WIDGETS)
_WORDS = tuple(word.encode() for word in _BLOCK_WORDS)

# A page whose visible text is shorter than this, with no structured data, is a shell.
EMPTY_SHELL_CHARS = 40
# A captcha widget on a page with more visible text than this is a form on a real page.
INTERSTITIAL_MAX_CHARS = 1500


def visible_text(html: str) -> str:
    """The text a person would see, roughly: no scripts, styles or tags, spaces collapsed."""
    without = _INVISIBLE.sub(" ", html)
    return _SPACE.sub(" ", _TAG.sub(" ", without)).strip()


def block_reason_from_headers(*, status: int, headers: Mapping[str, str]) -> str | None:
    """A block that the headers alone prove (no need to read the body)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get("cf-mitigated", "").strip().lower() == "challenge":
        return "Cloudflare bot challenge (cf-mitigated: challenge)"
    if status in (401, 403, 405, 429) and "x-datadome" in lowered:
        return "DataDome bot protection"
    if status in (403, 429) and lowered.get("x-px-blocked"):
        return "PerimeterX bot protection"
    return None


def block_reason(*, status: int, headers: Mapping[str, str], text: str) -> str | None:
    """Why this response is a block or challenge page and not the product, or None.

    Safe on any page: a shop page that merely mentions "captcha" in a long text, or carries a
    reCAPTCHA on its review form, is not flagged; the markers are the vendors' own.
    """
    reason = block_reason_from_headers(status=status, headers=headers)
    if reason:
        return reason
    head = text[:300_000].encode("utf-8", "replace").lower()
    for vendor, marker in _MARKERS:
        if marker in head:
            return f"{vendor} bot challenge or block page"
    title_match = _TITLE.search(text[:50_000])
    title = _SPACE.sub(" ", title_match.group(1)).strip() if title_match else ""
    # The visible text costs a regex pass over the page: computed only when a rule needs it.
    visible_cache: list[str] = []

    def visible() -> str:
        if not visible_cache:
            visible_cache.append(visible_text(text[:300_000]))
        return visible_cache[0]

    if any(widget in head for widget in _WIDGETS) and (
        _BLOCK_TITLE.search(title) or len(visible()) <= INTERSTITIAL_MAX_CHARS
    ):
        return "a captcha page"
    if title and _BLOCK_TITLE.search(title) and len(visible()) <= INTERSTITIAL_MAX_CHARS:
        return f"a block page ({title[:80]})"
    if (
        len(text) < 150_000
        and any(word in head for word in _WORDS)
        and len(visible()) <= INTERSTITIAL_MAX_CHARS
        and _BLOCK_TEXT.search(visible())
    ):
        return "an access-denied page"
    if status == 200 and not _STRUCTURED_PRICE.search(head) and len(visible()) < EMPTY_SHELL_CHARS:
        from .shells import script_shell  # shells reads visible_text from here

        # A script shell is not a block: the check reads it, finds no price, and tries it once
        # in the browser (tracker/render_trial.py).
        if not script_shell(html=text):
            return "an empty page shell (the page may need JavaScript: try 'render in a browser')"
    return None

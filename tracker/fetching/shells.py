"""Pages that are only a script shell: the HTML is a mount point and scripts, and the product,
its price included, is drawn by JavaScript in the browser. Such a page has no price to read
without rendering, so "no price found" would be the wrong word for it.

Pure: HTML in, a verdict out. Structural signs only (text, scripts, an empty mount element),
never a framework's, a shop's or a page's name.
"""

from __future__ import annotations

from lxml import html as lxml_html
from lxml.etree import ParserError

from .blocking import visible_text

# Less visible text than this (noscript hints left out): nothing a person could shop from.
SHELL_MAX_TEXT = 200
# At least this many scripts, inline or external: one bundle is enough to build a page.
SHELL_MIN_SCRIPTS = 1
# A mount element may hold a placeholder until the script replaces it.
MOUNT_MAX_TEXT = 40
SHELL_REASON = "the page looks like a script shell that needs JavaScript to show its price"


def _empty_mount(body) -> bool:  # type: ignore[no-untyped-def]
    """An element with an id (or a custom element) with no elements inside and at most a short
    placeholder ("Loading…"): where a script draws."""
    for element in body.iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "noscript", "style", "template", "body"):
            continue
        mount = element.get("id") or "-" in element.tag
        if mount and len(element) == 0 and len((element.text or "").strip()) <= MOUNT_MAX_TEXT:
            return True
    return False


def script_shell(*, html: str) -> bool:
    """True when the page is a script shell: little visible text, scripts and an empty mount
    element in the body."""
    if not html or len(visible_text(html[:300_000])) >= SHELL_MAX_TEXT:
        return False
    try:
        document = lxml_html.document_fromstring(html[:1_000_000])
    except (ParserError, ValueError):
        return False
    if len(document.xpath("//script")) < SHELL_MIN_SCRIPTS:
        return False
    body = document.find("body")
    return body is not None and _empty_mount(body)

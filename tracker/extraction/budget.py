"""A page budget: pathological pages refused before parsing, and a CPU budget while reading.

lxml's HTML parser (libxml2) checks each new attribute of an element against the ones before
it, so one element with 200,000 attributes costs minutes of C time that no Python signal can
interrupt (Celery's soft limit included). So the bytes are scanned first, with regular
expressions (C speed, linear): an element with too many attributes, or a page with too many
elements, is refused with the reason. After parsing, nesting deeper than `MAX_DEPTH` is
refused (libxml2 stops at 256 levels anyway; one XPath of `/*` steps tells, in C). Then the
layers read the tree under a CPU budget: in the main thread (a Celery worker's, a command's),
a profiling timer interrupts Python code that runs past `CPU_SECONDS`; elsewhere (a web
request thread, where timers cannot be set) the pre-scan limits still hold.

The limits sit far above any real shop page (the corpora peak at a few thousand elements and
a few dozen attributes on one element; bench/page_budget.py prints the figures).
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

MAX_ATTRIBUTES = 1_000  # on one element
MAX_ELEMENTS = 150_000  # start tags in the page (real pages: tens of thousands at most)
MAX_DEPTH = 200  # nesting of elements in the parsed tree
CPU_SECONDS = 10.0  # CPU time the layers may spend reading one page

# A run of MAX_ATTRIBUTES attribute assignments in a row: one element carrying that many.
# Quoted values may hold anything but their quote ('>' and '<' included), so an attacker
# cannot hide the run by splitting the tag; after a quoted value no space is needed.
# Possessive quantifiers and an atomic group: no backtracking, so the scan stays linear.
_ATTRIBUTE = r"""(?>(?:\s++|(?<=["']))[^\s<>"'/=]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>"']*+))?+)"""
_START_TAG = r"<[A-Za-z]"


def _patterns(kind: type) -> tuple[re.Pattern, re.Pattern]:
    run = f"<[A-Za-z][^\\s/<>]*+(?:{_ATTRIBUTE}){{{MAX_ATTRIBUTES},}}"
    if kind is bytes:
        return re.compile(run.encode()), re.compile(_START_TAG.encode())
    return re.compile(run), re.compile(_START_TAG)


_STR_PATTERNS = _patterns(str)
_BYTES_PATTERNS = _patterns(bytes)


class PageBudgetExceeded(BaseException):
    """Reading a page took more CPU time than its budget.

    A BaseException, like KeyboardInterrupt: the timer raises it wherever the reading is, and
    the layers' `except Exception` around malformed structured data must not swallow it (it did,
    now and then, and the page was read to the end with the budget spent)."""


def page_refusal(html: str | bytes) -> str | None:
    """Why a page is refused before parsing (its structure would cost too much), or None."""
    attributes, start_tag = _BYTES_PATTERNS if isinstance(html, bytes) else _STR_PATTERNS
    # Every start tag opens with "<": a page with no more "<" than the limit has no more
    # elements, and counting a character costs a tenth of listing the tags.
    if html.count(b"<" if isinstance(html, bytes) else "<") > MAX_ELEMENTS:
        elements = len(start_tag.findall(html))
        if elements > MAX_ELEMENTS:
            return f"the page has too many elements to read safely ({elements:,} > {MAX_ELEMENTS:,}); not read"
    if attributes.search(html):
        return f"an element of the page carries more than {MAX_ATTRIBUTES:,} attributes; not read"
    return None


def tree_refusal(tree) -> str | None:
    """Why a parsed page is refused (nesting too deep), or None. One XPath, evaluated in C."""
    if tree.xpath("boolean(/" + "/".join(["*"] * (MAX_DEPTH + 1)) + ")"):
        return f"the page nests elements more than {MAX_DEPTH} deep; not read"
    return None


class _Spent:
    """Set by the timer: the running budget is spent (read on exit, see cpu_budget)."""

    spent = False


def _on_timer(signum, frame) -> None:
    _Spent.spent = True
    raise PageBudgetExceeded


@contextmanager
def cpu_budget(seconds: float | None = None) -> Iterator[None]:
    """Raise PageBudgetExceeded in the block once it has used `seconds` (CPU_SECONDS) of CPU.

    Only in the main thread (signals are delivered there); elsewhere the block runs unbounded.
    Nested budgets keep the outer one: the inner block runs under it.

    Python drops an exception raised where it cannot propagate (a gc callback, a __del__): the
    timer's interrupt can land there. So the timer also marks the budget spent, and a block that
    ends with its budget spent raises on exit: the reading ran on, but its result is not kept.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    if signal.getitimer(signal.ITIMER_PROF)[0] > 0:
        yield  # an outer budget is running
        return
    _Spent.spent = False
    previous = signal.signal(signal.SIGPROF, _on_timer)
    signal.setitimer(signal.ITIMER_PROF, seconds if seconds is not None else CPU_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    if _Spent.spent:
        raise PageBudgetExceeded

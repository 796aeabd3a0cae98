"""What a page says about its locale and currency, for reading its amounts.

The evidence — `<html lang>`, `og:locale`, a declared price currency, the country domain of
the page's address — settles what the amount grammar cannot from the text alone: which
currency `$`, `kr` or `¥` is, whether `1.299` groups thousands, whether `1,29,999` is lakh
grouping. The pipeline sets it for the page it reads (`page_evidence`); every amount read
meanwhile (structured data, heuristics, patterns) uses it without passing it through each call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from .currencies import locale_numbers, territory_currency


@dataclass(frozen=True)
class PageEvidence:
    language: str | None = None  # a BCP 47 tag from the page ("de-AT"), when it gives one
    # Currencies the page points to, strongest first: declared ones, then the locale's
    # territory and the country domain.
    currencies: tuple[str, ...] = ()
    declared: tuple[str, ...] = ()  # the ones the page states outright (priceCurrency, meta)


NO_EVIDENCE = PageEvidence()
_CURRENT: ContextVar[PageEvidence] = ContextVar("page_evidence", default=NO_EVIDENCE)


def evidence_current() -> PageEvidence:
    return _CURRENT.get()


@contextmanager
def page_evidence(evidence: PageEvidence) -> Iterator[PageEvidence]:
    """Amounts read inside the block use `evidence`; safe to nest (the outer one returns)."""
    token = _CURRENT.set(evidence)
    try:
        yield evidence
    finally:
        _CURRENT.reset(token)


_CURRENCY_META = frozenset({"product:price:currency", "og:price:currency", "pricecurrency",
                            "product:sale_price:currency"})
_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")
# Generic top-level domains and ones sold worldwide that say nothing about a country.
_NOT_A_COUNTRY = frozenset({"io", "co", "tv", "me", "ai", "cc", "ly", "fm", "gg", "to", "ws", "eu", "uk"})


def _domain_territory(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return None
    tld = host.rsplit(".", 1)[-1].lower()
    if tld == "uk":
        return "GB"
    if len(tld) != 2 or not tld.isalpha() or tld in _NOT_A_COUNTRY:
        return None
    return tld.upper()


def page_evidence_read(
    tree: etree._Element, *, url: str | None = None, declared: tuple[str, ...] = ()
) -> PageEvidence:
    """The page's locale and currency evidence from its markup and address."""
    from .parsing import parse_currency  # parsing reads amounts with this module's evidence

    found = [code for code in declared if code]
    og_locale = None
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("itemprop") or meta.get("name") or "").lower()
        if key in _CURRENCY_META:
            code = parse_currency(meta.get("content"))
            if code:
                found.append(code)
        elif key == "og:locale" and og_locale is None:
            og_locale = (meta.get("content") or "").strip() or None
    strong = tuple(dict.fromkeys(found))
    lang = (tree.get("lang") or tree.get("xml:lang") or "").strip()
    tags = [t for t in (og_locale, lang) if t and _TAG.fullmatch(t)]
    language = tags[0] if tags else None
    for tag in tags:
        numbers = locale_numbers(tag)
        # Only a tag naming a country says which money the page uses ("de-AT", "en_IN").
        if numbers is not None and ("-" in tag or "_" in tag):
            found.append(territory_currency(numbers.territory) or "")
    found.append(territory_currency(_domain_territory(url)) or "")
    if language:
        numbers = locale_numbers(language)
        found.append(territory_currency(numbers.territory) if numbers else "")
    return PageEvidence(language, tuple(dict.fromkeys(c for c in found if c)), strong)


def evidence_declare(currency: str | None) -> None:
    """Add a currency the page states (its structured data's) to the evidence in force, for
    the rest of the `page_evidence` block that set it."""
    if not currency:
        return
    current = _CURRENT.get()
    _CURRENT.set(
        PageEvidence(
            current.language,
            tuple(dict.fromkeys((currency, *current.currencies))),
            tuple(dict.fromkeys((currency, *current.declared))),
        )
    )

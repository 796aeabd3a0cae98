"""The shop's own name, read from one of its pages: what a person calls the store.

Pure: HTML and its URL in, a name or "" out. In order of trust: OpenGraph `og:site_name`,
a structured-data seller or organisation (JSON-LD), then the part of the <title> after
" | " or " - " when the page confirms it (the rest of the title is the product's heading,
or the suffix spells the host's name).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

NAME_MAX = 80
_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|·)\s+")
_ORGANISATION_TYPES = {"organization", "store", "onlinestore", "onlinebusiness", "localbusiness", "corporation"}


def _clean(text: str | None) -> str:
    name = " ".join((text or "").split())
    if not (2 <= len(name) <= NAME_MAX) or name.isdigit() or "://" in name:
        return ""
    return name


def _letters(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _jsonld_nodes(tree) -> Iterator[dict]:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content() or "")
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                yield node
                stack.extend(value for value in node.values() if isinstance(value, dict | list))


def _types(node: dict) -> set[str]:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(item).lower() for item in kinds if item}


def _structured_name(tree) -> str:
    sellers: list[str] = []
    organisations: list[str] = []
    for node in _jsonld_nodes(tree):
        seller = node.get("seller")
        if isinstance(seller, dict) and isinstance(seller.get("name"), str):
            sellers.append(seller["name"])
        if _types(node) & _ORGANISATION_TYPES and isinstance(node.get("name"), str):
            organisations.append(node["name"])
    for candidate in sellers + organisations:
        if name := _clean(candidate):
            return name
    return ""


def _title_suffix(tree, *, host: str) -> str:
    title = _clean_text(tree.findtext(".//title"))
    parts = _SEPARATORS.split(title) if title else []
    if len(parts) < 2:
        return ""
    head, suffix = " - ".join(parts[:-1]), _clean(parts[-1])
    if not suffix:
        return ""
    headings = [_clean_text(h.text_content()) for h in tree.xpath("//h1")[:3]]
    headings += [_clean_text(v) for v in tree.xpath('//meta[@property="og:title"]/@content')[:1]]
    if any(heading and _letters(heading) == _letters(head) for heading in headings):
        return suffix
    spelled = _letters(suffix)
    if len(spelled) >= 3 and spelled in _letters(host):
        return suffix
    return ""


def _clean_text(text: str | None) -> str:
    return " ".join((text or "").split())


def site_name(*, html: str, url: str) -> str:
    """The shop's display name as the page gives it, or "" when the page does not say."""
    if not html:
        return ""
    try:
        tree = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return ""
    for value in tree.xpath('//meta[@property="og:site_name" or @name="og:site_name"]/@content'):
        if name := _clean(value):
            return name
    if name := _structured_name(tree):
        return name
    return _title_suffix(tree, host=urlsplit(url).hostname or "")

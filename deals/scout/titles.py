"""Matching deal titles against a person's watch query. Pure.

A query is keywords with exclusions: `rtx 4070 -laptop`, `"noise cancelling" wh-1000xm5`.
Matching ignores word order, case, accents and punctuation, and model numbers match however
they are spelled: `WH-1000XM5` = `wh1000xm5` = `WH 1000 XM5`.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_RUNS = re.compile(r"[a-z]+|[0-9]+")


def normalize(text: str) -> str:
    """Lower case, accents stripped, punctuation turned into spaces."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _NON_ALNUM.sub(" ", text).strip()


@dataclass(frozen=True)
class Term:
    """One required (or excluded) term: a word, a model number or a quoted phrase."""

    words: tuple[str, ...]
    squashed: str

    @property
    def is_model_number(self) -> bool:
        return any(ch.isdigit() for ch in self.squashed)


@dataclass(frozen=True)
class Query:
    include: tuple[Term, ...]
    exclude: tuple[Term, ...]

    @property
    def is_empty(self) -> bool:
        return not self.include


def _term(raw: str) -> Term | None:
    words = tuple(normalize(raw).split())
    if not words:
        return None
    return Term(words=words, squashed="".join(words))


@lru_cache(maxsize=4096)
def parse_query(text: str) -> Query:
    """`rtx 4070 -laptop "founders edition"` → include rtx, 4070, founders edition; exclude laptop."""
    try:
        parts = shlex.split(text or "")
    except ValueError:  # an unbalanced quote: read the words as they are
        parts = (text or "").replace('"', " ").split()
    include: list[Term] = []
    exclude: list[Term] = []
    for part in parts:
        negative = part.startswith("-") and len(part) > 1
        term = _term(part[1:] if negative else part)
        if term is None:
            continue
        (exclude if negative else include).append(term)
    return Query(include=tuple(include), exclude=tuple(exclude))


@dataclass(frozen=True)
class Title:
    """A deal title prepared once for matching against many watches."""

    words: frozenset[str]
    spaced: str
    squashed: str

    @classmethod
    def of(cls, text: str) -> Title:
        spaced = normalize(text)
        words = set(spaced.split())
        # "rtx4070" also counts as the words "rtx" and "4070".
        for word in list(words):
            words.update(_RUNS.findall(word))
        return cls(words=frozenset(words), spaced=f" {spaced} ", squashed=spaced.replace(" ", ""))


def _contains_model_number(squashed_title: str, number: str) -> bool:
    """`4070` is in `rtx4070ti` but not in `rtx40700`: no digit may touch it on either side."""
    start = squashed_title.find(number)
    while start != -1:
        end = start + len(number)
        before = squashed_title[start - 1] if start else ""
        after = squashed_title[end] if end < len(squashed_title) else ""
        digit_edge_ok = not (before.isdigit() and number[0].isdigit()) and not (
            after.isdigit() and number[-1].isdigit()
        )
        if digit_edge_ok:
            return True
        start = squashed_title.find(number, start + 1)
    return False


def term_in_title(term: Term, title: Title) -> bool:
    if term.is_model_number:
        if term.squashed in title.words:
            return True
        return _contains_model_number(title.squashed, term.squashed)
    if len(term.words) == 1:
        word = term.words[0]
        # Plural/singular: "headphone" finds "headphones" and the other way round.
        return word in title.words or f"{word}s" in title.words or (
            word.endswith("s") and word[:-1] in title.words
        )
    return f" {' '.join(term.words)} " in title.spaced


def query_matches(query: Query, title: Title) -> bool:
    if query.is_empty:
        return False
    if any(term_in_title(term, title) for term in query.exclude):
        return False
    return all(term_in_title(term, title) for term in query.include)


def title_matches(query_text: str, title_text: str) -> bool:
    return query_matches(parse_query(query_text), Title.of(title_text))

"""The words and labels around a printed amount that say what it is: the current price, a
"was" price, a saving, a per-unit or shipping amount, an instalment, a deposit, another
seller's offer, a "from" price.

The shop wording is data (`LEXICON`, one table per language and kind, in `lexicon.py`); this
module turns it into the few matchers the heuristics, the price checks and the pipeline use.
Entries are literal, lower-case phrases with a small syntax:

- `#` is a number (`"# x de"` reads "10x de"), a trailing `*` a stem (`"versand*"`), a lone
  `*` any one word (`"pay in *"`);
- a label (`before`) must end right before the amount, a trailer (`after`) must start right
  after it; `far` labels may stand a few words before it.

Short words that also occur in ordinary text ("de", "od", "ab", "da") are safe because they
count only right next to an amount. In scripts written without spaces between words (Chinese,
Japanese, Thai, and Korean, whose particles attach to words) an entry needs no word boundary;
elsewhere it must start (and a trailer end) at a word boundary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .lexicon import CLASS_WORDS, LEXICON, SALE_MARKER_WORDS, Kind, Wording

__all__ = [
    "AFTER_BAD", "AFTER_GOOD", "AFTER_TIGHT", "BEFORE_BAD", "BEFORE_GOOD", "EMPHASIS_WORDS", "FAR_LABELS", "FROM_AFTER",
    "GROSS_WORDS", "LEXICON", "LOWER_BOUND", "NEG_WORDS", "NET_AFTER", "NET_BEFORE", "OTHER_OFFER_WORDS",
    "POS_WORDS", "SALE_MARKERS", "SHOWN_AS_OTHER", "SOFT_NEG_WORDS", "Kind", "Wording", "amount_kind",
    "entry_regex",
]

NEG_WORDS = CLASS_WORDS["neg"]
OTHER_OFFER_WORDS = CLASS_WORDS["other_offer"]
GROSS_WORDS = CLASS_WORDS["gross"]
SOFT_NEG_WORDS = CLASS_WORDS["soft_neg"]
POS_WORDS = CLASS_WORDS["pos"]
EMPHASIS_WORDS = CLASS_WORDS["emphasis"]

# Characters that glue to a word: letters and digits (\w), and the combining marks of scripts
# whose vowel signs Python does not count as \w (Devanagari and other Indic scripts, Arabic).
_GLUE = r"\w\u0300-\u036f\u064b-\u065f\u0900-\u0dff"
_SPACELESS = re.compile(r"[\u0e00-\u0eff\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]")
_WORDISH = re.compile(rf"[{_GLUE}]")


def _atoms(entry: str) -> list[str]:
    """An entry as regex atoms, one per character or syntax element (for the trie below)."""
    atoms: list[str] = []
    words = entry.split(" ")
    for index, word in enumerate(words):
        if index:
            atoms.append(r"\s*" if words[index - 1][-1:] in ".:/+(" else r"\s+")
        if word == "*":
            atoms.append(r"\w+")
            continue
        stem = word.endswith("*") and len(word) > 1
        for char in word[:-1] if stem else word:
            if char == "#":
                atoms.append(r"\d+\s?")
            elif char == ".":
                atoms.append(r"\.?")
            else:
                atoms.append(re.escape(char))
        if stem:
            atoms.append(r"\w*")
    return atoms


def _trie(entries: Iterable[list[str]]) -> str:
    """One regex alternation over many entries with shared prefixes merged, so the engine
    tests each position against a few first characters instead of hundreds of branches."""
    root: dict = {}
    for atoms in entries:
        node = root
        for atom in atoms:
            node = node.setdefault(atom, {})
        node[""] = {}

    def emit(node: dict) -> str:
        ends = "" in node
        branches = [atom + emit(child) for atom, child in sorted(node.items()) if atom]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends else "(?:" + "|".join(branches) + ")"
        return body + ("?" if ends else "")

    return emit(root)


def entry_regex(entries: Iterable[str], *, side: str) -> str:
    """The regex source matching any of `entries` as a label (`side="before"`, anchored at the
    end of the text) or a trailer (`side="after"`, anchored at its start)."""
    spaced: list[list[str]] = []
    spaceless: list[list[str]] = []
    for entry in {e.strip().lower().rstrip(":") for e in entries if e.strip()}:
        edge = entry[0] if side == "before" else entry[-1]
        (spaceless if _SPACELESS.match(edge) or not _WORDISH.match(edge) else spaced).append(_atoms(entry))
    parts = []
    if spaced:
        boundary = rf"(?<![{_GLUE}])" if side == "before" else ""
        closing = "" if side == "before" else rf"(?![{_GLUE}])"
        parts.append(f"{boundary}{_trie(spaced)}{closing}")
    if spaceless:
        parts.append(_trie(spaceless))
    return "(?:" + "|".join(parts) + ")" if parts else "(?!)"


def _entries(kinds: Iterable[Kind], side: str) -> list[str]:
    kinds = set(kinds)
    return [entry for table in LEXICON.values() for kind, wording in table.items() if kind in kinds
            for entry in getattr(wording, side)]


_QUALIFIER = r"(?:\s*\([^)]{0,15}\))?"  # "Was (incl. VAT):"


def _before(kinds: Iterable[Kind]) -> re.Pattern:
    source = entry_regex(_entries(kinds, "before"), side="before")
    return re.compile(rf"{source}{_QUALIFIER}\W{{0,3}}$", re.IGNORECASE)


def _after(kinds: Iterable[Kind]) -> re.Pattern:
    source = entry_regex(_entries(kinds, "after"), side="after")
    # "$49.99 Shipping: $5" - a trailer followed by a colon labels the next amount, not this one.
    return re.compile(rf"^\W{{0,2}}{source}(?!\s*:)", re.IGNORECASE)


_NOT_PRICE = [kind for kind in Kind if kind not in (Kind.PRICE, Kind.FROM)]

# Any wording that makes an amount something other than the product's current price.
BEFORE_BAD = _before(_NOT_PRICE)
AFTER_BAD = _after(_NOT_PRICE)
# Labels of the current price ("Now", "Preis", "售价"); English "from" labels too (a lone "From
# $X" is the price; other languages' short "from" words are too common to count as a label).
BEFORE_GOOD = re.compile(
    entry_regex(_entries([Kind.PRICE], "before") + list(LEXICON["en"][Kind.FROM].before), side="before")
    + rf"{_QUALIFIER}\W{{0,3}}$",
    re.IGNORECASE,
)
# Tax and shipping notes said of the selling price ("€210,87 zzgl. Versand", "49,90 € TTC").
AFTER_GOOD = _after([Kind.PRICE])
# "From £1,049", "ab 19,99 €", "30,000원~": the cheapest of several sizes or options when the
# page lists others; the price itself when it does not.
LOWER_BOUND = _before([Kind.FROM])
FROM_AFTER = _after([Kind.FROM])
# Labels that may stand a few words before the amount: EU "lowest price in 30 days" notices,
# "was" wording in other languages.
FAR_LABELS = re.compile(
    rf"{entry_regex([e for table in LEXICON.values() for w in table.values() for e in w.far], side='before')}"
    r"[^\d]{0,40}$",
    re.IGNORECASE,
)
# What the pipeline asks of a structured price the page prints: shown only as one of these
# kinds of amount, it is not the price (a tighter set than the heuristics': a price printed
# near "Versand" or "Club" wording is still that price).
_OTHER_KINDS = (Kind.WAS, Kind.NET, Kind.SAVING, Kind.SHIPPING, Kind.INSTALMENT, Kind.DEPOSIT)
SHOWN_AS_OTHER = _before(_OTHER_KINDS)
# Trailers that make a printed amount a per-unit price, an instalment or a saving.
AFTER_TIGHT = _after([Kind.UNIT, Kind.INSTALMENT, Kind.SAVING])
# A net price (before tax) beside the gross one the shopper pays.
NET_BEFORE = _before([Kind.NET])
NET_AFTER = _after([Kind.NET])
# Two prices side by side with one of these in their block: the lower is the current one.
SALE_MARKERS = re.compile(
    rf"%|(?<![{_GLUE}]){_trie(_atoms(w) for w in SALE_MARKER_WORDS)}(?![{_GLUE}])", re.IGNORECASE
)

_BY_KIND = {
    kind: (_before([kind]), _after([kind])) for kind in Kind
}


def amount_kind(*, before: str, after: str = "") -> Kind | None:
    """What the wording right around an amount says it is (`before` ends where the amount
    starts, `after` starts where it ends), or None when nothing marks it. When labels of
    several kinds match, the longest wins ("envío gratis a partir de" is shipping, not from)."""
    best: tuple[int, int, Kind] | None = None
    for rank, (kind, (label, trailer)) in enumerate(_BY_KIND.items()):
        found = label.search(before)
        if found is not None:
            length = len(before) - found.start()
            if best is None or length > best[0]:
                best = (length, -rank, kind)
        found = trailer.match(after)
        if found is not None and (best is None or found.end() > best[0]):
            best = (found.end(), -rank, kind)
    return best[2] if best is not None else None

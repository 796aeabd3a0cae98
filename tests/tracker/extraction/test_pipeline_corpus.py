"""The extractor on the saved real product pages (tests/fixtures/pages, truth in truth.json).

Precision first: on every page the extractor either returns the true price or no price.
Pages it cannot read yet are listed in KNOWN_MISSES (it must return no price there) and
KNOWN_WRONG (it returns a wrong price today: xfail, strict, with the reason).
"""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from tracker.extraction import extract

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"
TRUTH: dict[str, dict] = json.loads((PAGES / "truth.json").read_text())

# The true price is on the page but the extractor gives up (it must not guess).
KNOWN_MISSES = {
    "etsy-com-1": "structured data gives a range; visible price includes shipping",
    "etsy-com-2": "structured prices disagree with each other and with the page",
    "monrovia-com": "OpenGraph price disagrees with the page: flagged",
}
# A wrong price today. Strict xfail: fixing one makes its test pass loudly.
KNOWN_WRONG: dict[str, str] = {}


@cache
def _result(name: str):
    return extract(gzip.decompress((PAGES / f"{name}.html.gz").read_bytes()))


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_it_returns_the_true_price_or_nothing(name):
    if name in KNOWN_WRONG:
        pytest.xfail(KNOWN_WRONG[name])
    record = TRUTH[name]
    expected = Decimal(record["price"]) if record["price"] else None

    result = _result(name)

    if expected is None:
        assert result.price is None, f"{name}: page has no single price, got {result.price}"
        return
    if name in KNOWN_MISSES:
        assert result.price is None, f"{name}: expected no answer (known miss), got {result.price}"
        assert result.reason
        return
    assert result.price == expected
    assert result.currency == record["currency"]
    assert result.method


def test_known_lists_name_real_pages():
    assert set(KNOWN_MISSES) <= set(TRUTH)
    assert set(KNOWN_WRONG) <= set(TRUTH)


def test_it_reads_availability_right_on_most_pages():
    right = wrong = 0
    for name, record in TRUTH.items():
        if record["availability"] is None:
            continue
        got = _result(name).availability
        if got is None:
            continue
        if got.value == record["availability"]:
            right += 1
        else:
            wrong += 1
    # Wrong today: hp-com and monrovia-com, whose structured availability contradicts the page.
    assert right >= 65
    assert wrong <= 3

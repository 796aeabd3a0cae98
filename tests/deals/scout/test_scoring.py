from decimal import Decimal as D

import pytest

from deals.scout.scoring import Comparable, confidence_for, deal_score


def test_the_comparable_is_the_median_with_its_count():
    comp = Comparable.of([D("100"), D("120"), D("90"), D("500")])
    assert comp.price == D("110.00")
    assert comp.count == 4


def test_no_comparables_means_no_score_and_no_confidence():
    verdict = deal_score(price=D("50"), comparable=Comparable.of([]))
    assert verdict.score == 0 and verdict.confidence == 0 and not verdict.suspicious
    assert "no comparable" in verdict.reason


@pytest.mark.parametrize(
    "price, comps, score, suspicious",
    [
        ("80", ["100"] * 10, 20, False),
        ("100", ["100"] * 10, 0, False),
        ("120", ["100"] * 10, 0, False),
        ("50", ["100"] * 10, 50, False),
        ("31", ["100"] * 10, 69, False),
        ("29", ["100"] * 10, 0, True),
        ("5", ["100", "110", "90"], 0, True),
    ],
)
def test_the_score_says_how_far_below_the_comparable_and_flags_the_implausible(price, comps, score, suspicious):
    verdict = deal_score(price=D(price), comparable=Comparable.of([D(c) for c in comps]))
    assert verdict.score == score
    assert verdict.suspicious is suspicious
    if suspicious:
        assert "suspicious" in verdict.reason


@pytest.mark.parametrize("count, low, high", [(1, 0.0, 0.3), (2, 0.2, 0.4), (3, 0.4, 0.6), (9, 0.7, 0.9), (10, 0.9, 0.9), (500, 0.9, 0.9)])
def test_confidence_grows_with_the_number_of_comparables(count, low, high):
    assert low <= confidence_for(count) <= high


def test_confidence_never_falls_as_data_grows():
    values = [confidence_for(n) for n in range(0, 30)]
    assert values == sorted(values)

"""Server-drawn SVG charts: pure functions from points to markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tracker.charts import Series, history_chart_svg, nice_ticks, sparkline_svg

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def points(*prices, step=timedelta(hours=6)):
    return [(START + step * i, Decimal(str(p))) for i, p in enumerate(prices)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # also proves the markup is well-formed XML


def series_paths(root: ET.Element) -> list[ET.Element]:
    return [el for el in root.iter(f"{SVG}path") if el.get("class") == "series"]


def texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter(f"{SVG}text")]


def path_coords(d: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]


def test_no_points_says_so_and_draws_no_line():
    root = parse(history_chart_svg([Series("shop.test", [])], currency="EUR"))
    assert series_paths(root) == []
    assert "No prices recorded yet" in texts(root)
    assert "Price (EUR)" in texts(root)


def test_one_point_draws_a_dot_within_the_frame():
    svg = history_chart_svg([Series("shop.test", points(19.99))], currency="USD", width=400, height=200)
    root = parse(svg)
    [path] = series_paths(root)
    circles = list(root.iter(f"{SVG}circle"))
    assert len(circles) == 1
    x, y = float(circles[0].get("cx")), float(circles[0].get("cy"))
    assert 0 < x < 400 and 0 < y < 200


def test_many_points_draw_one_stepped_line_per_store_with_a_legend():
    svg = history_chart_svg(
        [Series("shop-a.test", points(10, 12, 11)), Series("shop-b.test", points(9, 9, 14))],
        currency="EUR",
    )
    root = parse(svg)
    paths = series_paths(root)
    assert [p.get("data-series") for p in paths] == ["shop-a.test", "shop-b.test"]
    assert paths[0].get("stroke") != paths[1].get("stroke")
    assert {"shop-a.test", "shop-b.test", "Price (EUR)"} <= set(texts(root))


def test_a_higher_price_is_drawn_higher_up():
    root = parse(history_chart_svg([Series("s", points(10, 20))], width=500, height=300))
    d = series_paths(root)[0].get("d")
    # M x0 y0 H x1 V y1: the second price (20) sits above the first (10): a smaller y
    x0, y0, x1, y1 = path_coords(d)
    assert x1 > x0 and y1 < y0


def test_repeated_prices_collapse_into_one_step():
    flat = history_chart_svg([Series("s", points(*([5] * 500), 6))])
    d = series_paths(parse(flat))[0].get("d")
    assert d.count("H") == 1  # 5 held until the change to 6: one step, not 500 segments


def test_the_y_axis_covers_all_prices_with_round_ticks():
    root = parse(history_chart_svg([Series("s", points(95.5, 121.25))]))
    labels = [t for t in texts(root) if re.fullmatch(r"[\d,.]+", t)]
    values = [float(t.replace(",", "")) for t in labels]
    assert min(values) <= 95.5 and max(values) >= 121.25
    assert all(v == int(v) for v in values)


def test_axis_dates_follow_the_span():
    hours = parse(history_chart_svg([Series("s", points(1, 2, 3, step=timedelta(hours=1)))]))
    assert any(re.fullmatch(r"\d\d:\d\d", t) for t in texts(hours))
    months = parse(history_chart_svg([Series("s", points(1, 2, 3, step=timedelta(days=20)))]))
    assert any(re.fullmatch(r"\d{1,2} (Nov|Dec)", t) for t in texts(months))


def test_store_names_are_escaped():
    svg = history_chart_svg([Series('<script>alert("x")</script>', points(1))])
    assert "<script>" not in svg
    parse(svg)


def test_sparkline_colours_a_drop_green_and_a_rise_red():
    down = parse(sparkline_svg(points(10, 8)))
    up = parse(sparkline_svg(points(8, 10)))
    assert down.find(f"{SVG}path").get("stroke") == "#2b8a3e"
    assert up.find(f"{SVG}path").get("stroke") == "#c92a2a"


@pytest.mark.parametrize("count", [0, 1, 2, 1000])
def test_sparkline_renders_any_number_of_points(count):
    svg = sparkline_svg(points(*[(i % 7) + 1 for i in range(count)]), width=120, height=30)
    root = parse(svg)
    assert root.get("viewBox") == "0 0 120 30"
    coords = [c for el in root if el.get("d") for c in path_coords(el.get("d"))]
    assert all(0 <= c <= 120 for c in coords)


def test_nice_ticks():
    assert nice_ticks(95, 121) == [90, 100, 110, 120, 130]
    assert nice_ticks(0.2, 0.9)[0] <= 0.2 and nice_ticks(0.2, 0.9)[-1] >= 0.9
    flat = nice_ticks(5, 5)
    assert flat[0] < 5 < flat[-1]

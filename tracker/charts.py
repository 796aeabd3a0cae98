"""Price charts drawn on the server as SVG: pure functions from points to markup.

No ORM, no request: a view hands in `(time, price)` points and gets a string it can put in a
page (marked safe by the caller). Prices are drawn as steps, because a price holds until the
next check finds another one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from html import escape

Point = tuple[datetime, Decimal | float | int]

PALETTE = ("#2563eb", "#d9480f", "#2b8a3e", "#9c36b5", "#e67700", "#0b7285", "#c2255c", "#5c940d")
AXIS_COLOR = "#9aa3b2"
GRID_COLOR = "#e6e9ef"
TEXT_COLOR = "#4a5263"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

@dataclass(frozen=True)
class Series:
    """One line on a chart: a store's prices over time."""

    label: str
    points: Sequence[Point]
    color: str = ""  # the palette's next colour when empty


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _steps(points: Sequence[Point]) -> list[tuple[datetime, float]]:
    """Sorted points with repeats of the same price dropped (the last point is always kept)."""
    ordered = sorted(((t, float(p)) for t, p in points), key=lambda item: item[0])
    kept: list[tuple[datetime, float]] = []
    for index, (moment, price) in enumerate(ordered):
        is_last = index == len(ordered) - 1
        if kept and kept[-1][1] == price and not is_last:
            continue
        kept.append((moment, price))
    return kept


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 × 10ⁿ steps) covering [low, high]."""
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(low) * 0.05 or 1.0
        low, high = low - pad, high + pad
    raw_step = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    start = math.floor(low / step) * step
    ticks: list[float] = []
    value = start
    while value <= high + step * 1e-9 and len(ticks) < 50:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


_TIME_STEPS = (
    60, 5 * 60, 15 * 60, 30 * 60, 3600, 3 * 3600, 6 * 3600, 12 * 3600,
    86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400, 91 * 86400, 182 * 86400, 364 * 86400,
)  # fmt: skip
MIN_TIME_SPAN = timedelta(hours=2)
_EPOCH = datetime(2000, 1, 3)  # a Monday, so weekly ticks fall on Mondays


def _time_ticks(start: datetime, end: datetime, max_ticks: int) -> tuple[list[datetime], int]:
    """Round local times between start and end (naive), and the step in seconds."""
    span = (end - start).total_seconds()
    step = next((s for s in _TIME_STEPS if span / s <= max_ticks - 1), _TIME_STEPS[-1])
    first = math.ceil((start - _EPOCH).total_seconds() / step) * step
    ticks: list[datetime] = []
    moment = _EPOCH + timedelta(seconds=first)
    while moment <= end and len(ticks) < max_ticks + 2:
        ticks.append(moment)
        moment += timedelta(seconds=step)
    return ticks, step


def _time_label(moment: datetime, step: int, previous: datetime | None) -> tuple[str, str]:
    """Two label lines: the main one, and the date under it when a new day starts."""
    if step < 86400:
        new_day = previous is None or previous.date() != moment.date()
        return moment.strftime("%H:%M"), (f"{moment.day} {moment:%b}" if new_day else "")
    if step >= 91 * 86400:
        return moment.strftime("%b"), moment.strftime("%Y")
    new_year = previous is None or previous.year != moment.year
    return f"{moment.day} {moment:%b}", (moment.strftime("%Y") if new_year else "")


def _tick_text(value: float, step: float) -> str:
    decimals = 0 if step >= 1 and float(value).is_integer() else 2
    return f"{value:,.{decimals}f}"


def _text_width(text: str, size: float) -> float:
    return len(text) * size * 0.6


def history_chart_svg(
    series: Sequence[Series],
    *,
    currency: str = "",
    width: int = 720,
    height: int = 280,
    font_size: int = 12,
    max_x_ticks: int = 7,
    tz: tzinfo = UTC,
    title: str = "Price history",
) -> str:
    """A chart with axes and one stepped line per series (store), with a legend and the currency.

    Series without points are listed in the legend but draw nothing; with no points at all the
    chart says so instead of drawing an empty frame that could be read as a price.
    """
    palette = {item.label: item.color or PALETTE[i % len(PALETTE)] for i, item in enumerate(series)}
    drawn = [(item, _steps(item.points)) for item in series]
    all_points = [point for _, steps in drawn for point in steps]

    # Legend rows along the top; long store lists wrap.
    legend_items: list[tuple[float, float, str, str]] = []
    x, row, gap = 0.0, 0, 14
    currency_text = f"Price ({currency})" if currency else "Price"
    x = _text_width(currency_text, font_size) + 24
    for item in series:
        item_width = 18 + _text_width(item.label, font_size) + gap
        if x + item_width > width - 8 and x > 0:
            row += 1
            x = 0.0
        legend_items.append((x, row, item.label, palette[item.label]))
        x += item_width
    legend_height = (row + 1) * (font_size + 8)

    parts: list[str] = []
    if not all_points:
        top = legend_height + 8
        body = (
            f'<rect x="1" y="{top}" width="{width - 2}" height="{height - top - 1}" fill="none" '
            f'stroke="{GRID_COLOR}" rx="6"/>'
            f'<text x="{width / 2:.0f}" y="{(top + height) / 2:.0f}" text-anchor="middle" '
            f'fill="{TEXT_COLOR}">No prices recorded yet</text>'
        )
        parts.append(body)
    else:
        prices = [price for _, price in all_points]
        y_ticks = nice_ticks(min(prices), max(prices), count=5)
        y_low, y_high = y_ticks[0], y_ticks[-1]
        y_step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
        labels = [_tick_text(v, y_step) for v in y_ticks]
        left = max(_text_width(label, font_size) for label in labels) + 14
        right = 12
        top = legend_height + 10
        bottom = font_size * 2 + 14
        plot_w = max(width - left - right, 10)
        plot_h = max(height - top - bottom, 10)

        local = [t.astimezone(tz).replace(tzinfo=None) for t, _ in all_points]
        t_start, t_end = min(local), max(local)
        if (t_end - t_start) < MIN_TIME_SPAN:
            # Checks seconds apart (or one check) would stretch over the whole width
            pad = (MIN_TIME_SPAN - (t_end - t_start)) / 2
            t_start -= pad
            t_end += pad
        t_span = (t_end - t_start).total_seconds()

        def sx(moment: datetime) -> float:
            naive = moment.astimezone(tz).replace(tzinfo=None) if moment.tzinfo else moment
            return left + (naive - t_start).total_seconds() / t_span * plot_w

        def sy(price: float) -> float:
            return top + plot_h - (price - y_low) / ((y_high - y_low) or 1.0) * plot_h

        # Grid and y labels
        for value, label in zip(y_ticks, labels, strict=True):
            y = sy(value)
            parts.append(
                f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(left + plot_w)}" y2="{_num(y)}" '
                f'stroke="{GRID_COLOR}"/>'
                f'<text x="{_num(left - 6)}" y="{_num(y + font_size * 0.35)}" text-anchor="end">'
                f"{escape(label)}</text>"
            )
        # x ticks
        ticks, step = _time_ticks(t_start, t_end, max_x_ticks)
        previous = None
        for moment in ticks:
            x_pos = sx(moment)
            line1, line2 = _time_label(moment, step, previous)
            previous = moment
            base = top + plot_h
            parts.append(
                f'<line x1="{_num(x_pos)}" y1="{_num(base)}" x2="{_num(x_pos)}" y2="{_num(base + 4)}" '
                f'stroke="{AXIS_COLOR}"/>'
                f'<text x="{_num(x_pos)}" y="{_num(base + font_size + 5)}" text-anchor="middle">'
                f"{escape(line1)}</text>"
            )
            if line2:
                parts.append(
                    f'<text x="{_num(x_pos)}" y="{_num(base + 2 * font_size + 8)}" '
                    f'text-anchor="middle">{escape(line2)}</text>'
                )
        # Axes
        parts.append(
            f'<path d="M{_num(left)} {_num(top)}V{_num(top + plot_h)}H{_num(left + plot_w)}" '
            f'fill="none" stroke="{AXIS_COLOR}"/>'
        )
        # Lines: a step path per series, dots where a check found a price when there are few
        for item, steps in drawn:
            if not steps:
                continue
            color = palette[item.label]
            path = [f"M{_num(sx(steps[0][0]))} {_num(sy(steps[0][1]))}"]
            for moment, price in steps[1:]:
                path.append(f"H{_num(sx(moment))}V{_num(sy(price))}")
            label = escape(item.label)
            parts.append(
                f'<path class="series" data-series="{label}" d="{"".join(path)}" fill="none" '
                f'stroke="{color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>'
            )
            if len(steps) <= 40:
                for moment, price in steps:
                    parts.append(
                        f'<circle cx="{_num(sx(moment))}" cy="{_num(sy(price))}" r="3" fill="{color}"/>'
                    )

    # Legend and currency label last, so they sit on top
    parts.append(f'<text x="0" y="{font_size + 2}" font-weight="600">{escape(currency_text)}</text>')
    for x_pos, row_index, label, color in legend_items:
        y = row_index * (font_size + 8) + font_size + 2
        parts.append(
            f'<rect x="{_num(x_pos)}" y="{_num(y - font_size * 0.75)}" width="12" height="4" '
            f'rx="1" fill="{color}"/>'
            f'<text x="{_num(x_pos + 17)}" y="{_num(y)}">{escape(label)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" font-family="{escape(FONT)}" '
        f'font-size="{font_size}" fill="{TEXT_COLOR}"><title>{escape(title)}</title>'
        + "".join(parts)
        + "</svg>"
    )


def sparkline_svg(
    points: Sequence[Point], *, width: int = 120, height: int = 32, title: str = "Price trend"
) -> str:
    """A small stepped trend line without axes; green when the price went down, red when up."""
    steps = _steps(points)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img"><title>{escape(title)}</title>'
    )
    if not steps:
        mid = height / 2
        return (
            head + f'<line x1="2" y1="{_num(mid)}" x2="{width - 2}" y2="{_num(mid)}" '
            f'stroke="{GRID_COLOR}" stroke-width="2" stroke-dasharray="4 4"/></svg>'
        )
    first, last = steps[0][1], steps[-1][1]
    color = "#2b8a3e" if last < first else "#c92a2a" if last > first else "#5c6b80"
    pad = 3.0
    prices = [price for _, price in steps]
    low, high = min(prices), max(prices)
    t0, t1 = steps[0][0], steps[-1][0]
    span = (t1 - t0).total_seconds()

    def sx(moment: datetime) -> float:
        if span <= 0:
            return pad
        return pad + (moment - t0).total_seconds() / span * (width - 2 * pad)

    def sy(price: float) -> float:
        if high == low:
            return height / 2
        return pad + (high - price) / (high - low) * (height - 2 * pad)

    path = [f"M{_num(sx(steps[0][0]))} {_num(sy(steps[0][1]))}"]
    for moment, price in steps[1:]:
        path.append(f"H{_num(sx(moment))}V{_num(sy(price))}")
    end_x = width - pad
    path.append(f"H{_num(end_x)}")
    return (
        head + f'<path d="{"".join(path)}" fill="none" stroke="{color}" stroke-width="2" '
        f'stroke-linejoin="round" stroke-linecap="round"/>'
        f'<circle cx="{_num(end_x)}" cy="{_num(sy(last))}" r="2.5" fill="{color}"/></svg>'
    )

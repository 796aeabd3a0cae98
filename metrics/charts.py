"""Charts drawn on the server as SVG: no JavaScript, nothing fetched from elsewhere.

Pure functions: numbers in, SVG markup out (labels escaped). Colours are SVG attributes,
not inline styles, so the Content-Security-Policy stays strict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = {
    "ok": "#2e7d32",
    "unchanged": "#81c784",
    "no_price": "#f9a825",
    "flagged": "#ef6c00",
    "error": "#c62828",
    "blocked": "#6a1b9a",
    "sent": "#2e7d32",
    "failed": "#c62828",
    "pending": "#90a4ae",
    "sending": "#64b5f6",
    "alerts": "#1565c0",
    "scout": "#00897b",
    "p50": "#90caf9",
    "p95": "#1565c0",
}
_FALLBACK = ["#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#c62828", "#00897b"]


def _color(key: str, index: int) -> str:
    return PALETTE.get(key, _FALLBACK[index % len(_FALLBACK)])


def _nice_max(value: float) -> float:
    """A round top for the axis, four equal round steps up (e.g. 19 → 20, 25 → 40)."""
    if value <= 0:
        return 1.0
    step = value / 4
    magnitude = 10 ** math.floor(math.log10(step))
    for nice in (1, 2, 2.5, 5, 10):
        if step <= nice * magnitude:
            return 4 * nice * magnitude
    return 4 * step


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or float(value).is_integer() else f"{value:.2g}"


def bar_chart_svg(
    *,
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    title: str,
    stacked: bool = True,
    width: int = 760,
    height: int = 220,
    unit: str = "",
) -> str:
    """Vertical bars per label, one colour per series (stacked, or side by side)."""
    left, right, top, bottom = 44, 10, 26, 38
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(labels), 1)
    keys = list(series)
    values = {k: [float(v or 0) for v in series[k]] for k in keys}
    if stacked:
        peak = max((sum(values[k][i] for k in keys) for i in range(len(labels))), default=0)
    else:
        peak = max((max(v, default=0) for v in values.values()), default=0)
    top_value = _nice_max(peak)
    slot = plot_w / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{escape(_fmt(top_value * i / 4))}{escape(unit)}</text>"
        )
    for i, label in enumerate(labels):
        x0 = left + i * slot
        base = top + plot_h
        for j, key in enumerate(keys):
            value = values[key][i] if i < len(values[key]) else 0
            if value <= 0:
                continue
            h = plot_h * value / top_value
            if stacked:
                x, w, y = x0 + slot * 0.1, slot * 0.8, base - h
                base -= h
            else:
                w = slot * 0.8 / len(keys)
                x, y = x0 + slot * 0.1 + j * w, top + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.5):.1f}" height="{h:.1f}" '
                f'fill="{_color(key, j)}"><title>{escape(label)} {escape(key)}: {escape(_fmt(value))}'
                f"{escape(unit)}</title></rect>"
            )
    every = max(1, round(n / max(2, plot_w // 85)))  # about one label per 85 units: 8 wide, 4 on a phone
    for i, label in enumerate(labels):
        if i % every == 0:
            x = left + i * slot + slot / 2
            parts.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 14}" font-size="10" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    lx = left
    for j, key in enumerate(keys):
        parts.append(f'<rect x="{lx}" y="{height - 12}" width="10" height="10" fill="{_color(key, j)}"/>')
        parts.append(f'<text x="{lx + 14}" y="{height - 3}" font-size="11">{escape(key)}</text>')
        lx += 24 + 7 * len(key)
    if peak == 0:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" font-size="13" text-anchor="middle" '
            f'fill="#757575">No data in this period</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def rate_bars_svg(*, rows: Sequence[tuple[str, float | None, str]], title: str, width: int = 760) -> str:
    """Horizontal bars of a share (0..1) per row: (label, share, text shown after the bar)."""
    # The label and the text after the bar take a share of a narrow (phone) chart, not fixed room.
    left = min(200, int(width * 0.34))
    bar_w, row_h, top = width - left - min(150, int(width * 0.3)), 22, 26
    height = top + row_h * max(len(rows), 1) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="8" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    if not rows:
        parts.append(f'<text x="8" y="{top + 14}" font-size="12" fill="#757575">No data in this period</text>')
    for i, (label, share, text) in enumerate(rows):
        y = top + i * row_h
        share = max(0.0, min(1.0, share or 0.0))
        color = "#2e7d32" if share >= 0.95 else "#f9a825" if share >= 0.8 else "#c62828"
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" font-size="11" text-anchor="end">{escape(label[:32])}</text>'
        )
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{bar_w}" height="14" fill="#eeeeee"/>')
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{bar_w * share:.1f}" height="14" fill="{color}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
        )
        parts.append(f'<text x="{left + bar_w + 6}" y="{y + 14}" font-size="11">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)

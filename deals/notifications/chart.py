"""A small price chart as a PNG, drawn and encoded here (no image library, no network). Pure."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from decimal import Decimal

WIDTH = 320
HEIGHT = 120
_MARGIN = 8
_BACKGROUND = (255, 255, 255)
_GRID = (226, 230, 236)
_LINE = (37, 99, 235)
_LAST = (220, 38, 38)


def _png(width: int, height: int, rows: list[bytearray]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(row) for row in rows)  # filter type 0 per scan line
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def price_chart_png(prices: Sequence[Decimal | float], *, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A line of the prices (oldest first), the last one marked. Fewer than two prices: a flat line."""
    rows = [bytearray(_BACKGROUND * width) for _ in range(height)]

    def plot(x: int, y: int, colour: tuple[int, int, int]) -> None:
        if 0 <= x < width and 0 <= y < height:
            rows[y][x * 3 : x * 3 + 3] = bytes(colour)

    for y in (_MARGIN, height // 2, height - _MARGIN - 1):
        for x in range(0, width, 2):
            plot(x, y, _GRID)

    values = [float(p) for p in prices] or [0.0]
    if len(values) == 1:
        values = values * 2
    low, high = min(values), max(values)
    spread = (high - low) or 1.0
    inner_w, inner_h = width - 2 * _MARGIN - 1, height - 2 * _MARGIN - 1

    def point(i: int, value: float) -> tuple[int, int]:
        x = _MARGIN + round(i * inner_w / (len(values) - 1))
        y = _MARGIN + round((high - value) / spread * inner_h) if high != low else height // 2
        return x, y

    points = [point(i, v) for i, v in enumerate(values)]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for s in range(steps + 1):
            x = x0 + round((x1 - x0) * s / steps)
            y = y0 + round((y1 - y0) * s / steps)
            plot(x, y, _LINE)
            plot(x, y + 1, _LINE)
    last_x, last_y = points[-1]
    for dx in range(-3, 4):
        for dy in range(-3, 4):
            if dx * dx + dy * dy <= 9:
                plot(last_x + dx, last_y + dy, _LAST)
    return _png(width, height, rows)

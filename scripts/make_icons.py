"""Draw the PNG icons and favicon.ico from static/pricetracker/icon.svg with headless Chromium.

    .venv/bin/python scripts/make_icons.py        (writes static/pricetracker/icon-*.png, favicon.ico)

Chromium (already used for browser rendering and tests) draws the SVG, so no image library is
needed; favicon.ico is an ICO directory around PNG images (the format allows PNG entries).
"""

from __future__ import annotations

import base64
import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

STATIC = Path(__file__).resolve().parent.parent / "static" / "pricetracker"
SIZES = {"icon-192.png": 192, "icon-512.png": 512, "apple-touch-icon.png": 180}
MASKABLE = {"icon-maskable-512.png": 512}  # full-bleed: a phone crops it to its own shape
ICO_SIZES = (16, 32, 48)


def _page(svg: str, size: int, *, bleed: bool) -> str:
    data = base64.b64encode(svg.encode()).decode()
    # A maskable icon keeps its drawing inside the middle 80% and fills the rest with the brand colour.
    inner = int(size * 0.8) if bleed else size
    background = "#2563eb" if bleed else "transparent"
    return (
        f"<html><body style='margin:0;width:{size}px;height:{size}px;display:grid;place-items:center;"
        f"background:{background}'><img src='data:image/svg+xml;base64,{data}' width={inner} height={inner}></body></html>"
    )


def _ico(pngs: list[tuple[int, bytes]]) -> bytes:
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, images = b"", b""
    for size, png in pngs:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset + len(images))
        images += png
    return header + entries + images


def main() -> None:
    svg = (STATIC / "icon.svg").read_text()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])

        def draw(size: int, *, bleed: bool = False) -> bytes:
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(_page(svg, size, bleed=bleed))
            png = page.screenshot(omit_background=not bleed)
            page.close()
            return png

        for name, size in SIZES.items():
            (STATIC / name).write_bytes(draw(size))
        for name, size in MASKABLE.items():
            (STATIC / name).write_bytes(draw(size, bleed=True))
        (STATIC / "favicon.ico").write_bytes(_ico([(size, draw(size)) for size in ICO_SIZES]))
        browser.close()


if __name__ == "__main__":
    main()

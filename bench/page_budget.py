"""The page budget against real pages: how close each corpus comes to the limits, and whether
any page is refused (none should be). Prints figures; asserts nothing.

    .venv/bin/python bench/page_budget.py [--corpus DIR ...]

A corpus folder holds pages as *.html.gz or *.html (in it or in its pages/ folder).
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.extraction import budget  # noqa: E402
from tracker.extraction.parsing import parse_html  # noqa: E402

_ATTRIBUTE_RUN = re.compile(
    rb"<[A-Za-z][^\s/<>]*+((?:" + budget._ATTRIBUTE.encode() + rb")*+)"
)
_ONE_ATTRIBUTE = re.compile(budget._ATTRIBUTE.encode())


def _pages(folder: Path):
    base = folder / "pages" if (folder / "pages").is_dir() else folder
    for path in sorted(base.rglob("*")):
        if path.name.endswith(".html.gz"):
            yield path.name, gzip.decompress(path.read_bytes())
        elif path.suffix in (".html", ".htm"):
            yield path.name, path.read_bytes()


def _depth(tree) -> int:
    depth = 0
    while depth < 300 and tree.xpath("boolean(/" + "/".join(["*"] * (depth + 1)) + ")"):
        depth += 1
    return depth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append", default=None)
    args = parser.parse_args()
    folders = args.corpus or [ROOT / "tests" / "fixtures" / "pages", ROOT / "tests" / "fixtures" / "templates"]
    print(
        f"limits: {budget.MAX_ATTRIBUTES} attributes on one element, {budget.MAX_ELEMENTS} elements, "
        f"depth {budget.MAX_DEPTH}, {budget.CPU_SECONDS:g} s CPU"
    )
    for folder in folders:
        pages = list(_pages(folder))
        most = {"elements": 0, "attributes": 0, "depth": 0}
        refused, scan = [], 0.0
        for name, data in pages:
            started = time.perf_counter()
            reason = budget.page_refusal(data)
            scan += time.perf_counter() - started
            tree = parse_html(data, budget_checked=True)
            reason = reason or (budget.tree_refusal(tree) if tree is not None else None)
            if reason:
                refused.append((name, reason))
            most["elements"] = max(most["elements"], len(re.findall(rb"<[A-Za-z]", data)))
            runs = (len(_ONE_ATTRIBUTE.findall(m.group(1))) for m in _ATTRIBUTE_RUN.finditer(data))
            most["attributes"] = max([most["attributes"], *runs])
            if tree is not None:
                most["depth"] = max(most["depth"], _depth(tree))
        print(
            f"{folder.name}: {len(pages)} pages, refused {len(refused)}; most elements {most['elements']}, "
            f"most attributes on one element {most['attributes']}, deepest {most['depth']}; "
            f"pre-scan {1000 * scan / max(len(pages), 1):.1f} ms a page"
        )
        for name, reason in refused:
            print(f"  refused {name}: {reason}")


if __name__ == "__main__":
    main()

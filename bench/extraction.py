"""Extraction precision/recall for the price, per layer, and time per page.

    .venv/bin/python bench/extraction.py [--corpus DIR] [--templates DIR] [--llm URL] [-v]

Corpus: a folder of `<name>.html.gz` pages with a `truth.json` beside it (the shared real-page
corpus or `tests/fixtures/pages`). Templates: `tests/fixtures/templates/*.html`, each with its
expected values in `expected.json`. A price counts as right only if it equals the page's real
price; a price returned for a page with no price (or a different one) is a false positive.
LLM off by default; `--llm URL` runs H5's agent against an OpenAI-compatible server (the
scripted local one in the tests) when `tracker.llm` provides `llm_extract` — the hook is
`_llm_layer` below.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.extraction import extract  # noqa: E402

DEFAULT_CORPUS = ROOT / "tests" / "fixtures" / "pages"
DEFAULT_TEMPLATES = ROOT / "tests" / "fixtures" / "templates"


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _llm_layer(url: str | None):
    """Returns a callable(html, result) -> result that asks the LLM agent, or None."""
    if not url:
        return None
    os.environ["OPENAI_BASE_URL"] = url
    os.environ.setdefault("OPENAI_API_KEY", "bench-key")  # a local scripted server takes any key
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    try:
        from tracker.llm import llm_extract  # the LLM agent's page-level entry point
    except ImportError:
        print("the LLM agent is not available (tracker.llm.llm_extract missing)", file=sys.stderr)
        return None

    def run(html: bytes, result):
        if result.price is not None or result.flagged:
            return result
        return llm_extract(html=html, result=result)

    return run


def evaluate(cases: list[tuple[str, bytes, Decimal | None]], *, llm=None, verbose=False) -> dict:
    counts = Counter()
    per_layer: dict[str, Counter] = {}
    times: list[float] = []
    cpu_times: list[float] = []
    for name, html, expected in cases:
        started, cpu = time.perf_counter(), time.process_time()
        result = extract(html, use_heuristics=True)
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - cpu) * 1000)
        if llm is not None:
            result = llm(html, result)
        got = result.price
        layer = result.method or ("flagged" if result.flagged else "none")
        if got is None:
            status = "FN" if expected is not None else "TN"
        else:
            status = "TP" if got == expected else "FP"
        counts[status] += 1
        per_layer.setdefault(layer, Counter())[status] += 1
        if verbose and status in ("FP", "FN"):
            print(f"  {status} {name:30} expected={expected} got={got} layer={layer} :: {result.reason or ''}"[:220])
    return {"counts": counts, "per_layer": per_layer, "times": times, "cpu": cpu_times}


def _report(title: str, outcome: dict) -> None:
    c = outcome["counts"]
    tp, fp, fn, tn = c["TP"], c["FP"], c["FN"], c["TN"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    times = sorted(outcome["times"])
    cpu = sorted(outcome["cpu"])
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))] if times else 0.0
    cpu95 = cpu[min(len(cpu) - 1, int(len(cpu) * 0.95))] if cpu else 0.0
    print(f"{title}: pages {sum(c.values())}  TP {tp} FP {fp} FN {fn} TN {tn}  "
          f"precision {precision:.3f}  recall {recall:.3f}")
    print(f"  time per page: mean {statistics.mean(times):.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms"
          f" (CPU: mean {statistics.mean(cpu):.1f} ms, p95 {cpu95:.1f} ms; wall time suffers on a busy machine)")
    for layer, counter in sorted(outcome["per_layer"].items()):
        lt, lf = counter["TP"], counter["FP"]
        print(f"  layer {layer:24} TP {lt:3} FP {lf:3} FN {counter['FN']:3} TN {counter['TN']:3}"
              f"  precision {lt / (lt + lf) if lt + lf else 1.0:.3f}")


def size_report(cases: list[tuple[str, bytes, Decimal | None]], low: int = 150_000, high: int = 260_000) -> None:
    """CPU time per page for real pages of about 200 KB, by the layer that answered (best of 3)."""
    by_layer: dict[str, list[float]] = {}
    for _name, html, _expected in cases:
        if not low <= len(html) <= high:
            continue
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            result = extract(html)
            best = min(best, (time.process_time() - started) * 1000)
        key = "structured data" if result.method in ("json-ld", "microdata", "opengraph") else "heuristics or none"
        by_layer.setdefault(key, []).append(best)
    for key, times in sorted(by_layer.items()):
        times.sort()
        print(f"  ~200 KB pages answered by {key}: {len(times)} pages, CPU mean {statistics.mean(times):.1f} ms,"
              f" max {times[-1]:.1f} ms")


def corpus_cases(folder: Path) -> list[tuple[str, bytes, Decimal | None]]:
    truth_path = folder / "truth.json"
    if not truth_path.exists():
        truth_path = folder.parent / "truth.json"
    truth = json.loads(truth_path.read_text())
    pages = folder / "pages" if (folder / "pages").is_dir() else folder
    cases = []
    for name, record in sorted(truth.items()):
        path = pages / f"{name}.html.gz"
        if path.exists():
            price = record.get("price")
            cases.append((name, _read(path), Decimal(price) if price else None))
    return cases


def template_cases(folder: Path) -> list[tuple[str, bytes, Decimal | None]]:
    expected = json.loads((folder / "expected.json").read_text())
    return [
        (name, (folder / name).read_bytes(), Decimal(e["price"]) if e.get("price") else None)
        for name, e in sorted(expected.items())
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--templates", type=Path, default=DEFAULT_TEMPLATES)
    parser.add_argument("--llm", metavar="URL", help="OpenAI-compatible server for the LLM layer")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    llm = _llm_layer(args.llm)
    mode = "LLM on" if llm else "LLM off"
    if args.corpus.exists():
        cases = corpus_cases(args.corpus)
        _report(f"real pages ({args.corpus}, {mode})", evaluate(cases, llm=llm, verbose=args.verbose))
        size_report(cases)
    if (args.templates / "expected.json").exists():
        _report(f"templates ({mode})", evaluate(template_cases(args.templates), llm=llm, verbose=args.verbose))


if __name__ == "__main__":
    main()

"""Extraction precision/recall for the price, per corpus and per layer, single-page and by shop,
and CPU time per page; LLM off and on.

    .venv/bin/python bench/extraction.py [--corpus DIR]... [--templates DIR] [--by-shop]
                                         [--llm URL | --llm-scripted] [-v]

Corpus: a folder of `<name>.html.gz` pages (or a `pages/` folder) with a `truth.json` beside it.
By default `tests/fixtures/pages` and, when a `shared/corpus` or `shared/corpus-world` folder is
found beside the checkout or above it, those development corpora too; `--corpus` (repeatable)
names the corpora instead. `--by-shop` also reads each corpus shop by shop
(`tracker.learning.by_shop`: one pattern per shop learned from the pages that answered alone, then
every page of the shop read again with it, the shop being truth.json's `shop`) and prints its
precision and recall, and the recall on the shops with two or more pages, alone and by shop. Templates: `tests/fixtures/templates/*.html`, each with its
expected values in `expected.json`. A price counts as right only if it equals the page's real
price; a price returned for a page with no price (or a different one) is a false positive.

LLM off by default. `--llm-scripted` starts `bench/scripted_llm.py` (an OpenAI-compatible server
on 127.0.0.1 whose scripted "model" ranks the price-like elements of the trimmed page it is sent,
never reading the truth) and prints LLM off and LLM on side by side; `--llm URL` does the same
against any OpenAI-compatible server. LLM on = the same extraction, then `tracker.learning.llm.llm_extract`
(the agent: up to 3 rounds, each answer validated by `tracker.extraction.validation.spec_problems`) for the
pages no other layer priced or flagged. Printed for the LLM layer: the pages it was asked about,
its calls and tokens (the usage the agent recorded), its time, and each page whose outcome it
changed with every round's selector and what validation said (-v: every page it was asked about).
No database is needed.
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
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.extraction import extract  # noqa: E402

DEFAULT_CORPUS = ROOT / "tests" / "fixtures" / "pages"
SHARED_CORPORA = ("corpus", "corpus-world")
DEFAULT_TEMPLATES = ROOT / "tests" / "fixtures" / "templates"


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


@dataclass
class Asked:
    """One page the LLM layer was asked about, with the agent's own record of it."""

    name: str
    before: str
    after: str
    price: Decimal | None
    answer: object | None  # tracker.learning.llm.AgentResult: rounds, spec, problems, calls (tokens)
    rounds: list[tuple[str, list[str]]]  # each parsed answer's price selector, validation's problems
    error: str | None
    wall_ms: float
    cpu_ms: float


def _llm_layer(url: str | None, *, force_key: bool = False):
    """Returns a callable(html, result) -> (result, AgentResult | None, rounds, error) that asks
    the LLM agent for pages no other layer answered (nor flagged), or None. `rounds` lists each
    parsed answer's price selector and the problems validation found with it."""
    if not url:
        return None
    os.environ["OPENAI_BASE_URL"] = url
    if force_key:
        os.environ["OPENAI_API_KEY"] = "bench-key"  # never send a real key, even to loopback
    os.environ.setdefault("OPENAI_API_KEY", "bench-key")  # a local scripted server takes any key
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # not a log line per HTTP request
    import django

    from config.bootstrap import bootstrap
    bootstrap()
    django.setup()
    try:
        from tracker.learning import llm as agent_module
        from tracker.learning.llm import LLMUnavailable, llm_extract  # the LLM agent's page-level entry point
    except ImportError:
        print("the LLM agent is not available (tracker.learning.llm.llm_extract missing)", file=sys.stderr)
        return None

    # llm_extract returns only the page's result; the agent's own record of the rounds, calls
    # and tokens (what pattern_learn saves as LLMCall rows), and what each round proposed and
    # what validation said of it, are kept here.
    answers: list = []
    rounds: list[tuple[str, list[str]]] = []
    make_agent = agent_module.agent_from_settings

    def recording_agent():
        agent = make_agent()
        if agent is not None:
            propose = agent.propose

            def recorded(*, pages, validate, on_call=None):
                def judged(spec):
                    problems = validate(spec)
                    rule = spec.price
                    rounds.append((rule.selector + (f" @{rule.attribute}" if rule.attribute else ""), problems))
                    return problems

                answers.append(propose(pages=pages, validate=judged, on_call=on_call))
                return answers[-1]

            agent.propose = recorded
        return agent

    agent_module.agent_from_settings = recording_agent
    import openai  # noqa: F401  # once, here: not in the first page's time

    def run(html: bytes, result):
        if result.price is not None or result.flagged:
            return result, None, [], None
        answers.clear()
        rounds.clear()
        try:
            # no url: a fixture's name ("no-price.html") would tell a real model the answer
            result = llm_extract(html=html, result=result)
        except LLMUnavailable as exc:
            return result, None, list(rounds), str(exc)
        return result, (answers[-1] if answers else None), list(rounds), None

    return run


def _status(got: Decimal | None, expected: Decimal | None) -> str:
    if got is None:
        return "FN" if expected is not None else "TN"
    return "TP" if got == expected else "FP"


def _layer(result) -> str:
    return result.method or ("flagged" if result.flagged else "none")


def _tally(outcome: dict, name: str, expected, result, ms: float, cpu_ms: float, verbose: bool) -> None:
    status = _status(result.price, expected)
    layer = _layer(result)
    outcome["counts"][status] += 1
    outcome["per_layer"].setdefault(layer, Counter())[status] += 1
    outcome["times"].append(ms)
    outcome["cpu"].append(cpu_ms)
    if verbose and status in ("FP", "FN"):
        print(f"  {status} {name:30} expected={expected} got={result.price} layer={layer} :: {result.reason or ''}"[:220])


def _empty() -> dict:
    return {"counts": Counter(), "per_layer": {}, "times": [], "cpu": []}


def evaluate(cases: list[tuple[str, bytes, Decimal | None]], *, llm=None, verbose=False) -> dict:
    """LLM off for every page; with `llm`, also LLM on (the same extraction, then the LLM layer
    for the pages it left without a price)."""
    off, on, asked = _empty(), _empty(), []
    for name, html, expected in cases:
        started, cpu = time.perf_counter(), time.process_time()
        result = extract(html, use_heuristics=True)
        ms, cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
        before = _status(result.price, expected)
        _tally(off, name, expected, result, ms, cpu_ms, verbose)
        if llm is None:
            continue
        # thread_time: this thread's CPU (agent, client, validation), not the scripted server's
        started, cpu = time.perf_counter(), time.thread_time()
        result, answer, rounds, error = llm(html, result)
        llm_ms, llm_cpu = (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000
        if answer is not None or error is not None:
            after = _status(result.price, expected)
            asked.append(Asked(name, before, after, result.price, answer, rounds, error, llm_ms, llm_cpu))
        _tally(on, name, expected, result, ms + llm_ms, cpu_ms + llm_cpu, False)
    return {"off": off, "on": on if llm is not None else None, "asked": asked}


def _report(title: str, outcome: dict) -> None:
    c = outcome["counts"]
    tp, fp, fn, tn = c["TP"], c["FP"], c["FN"], c["TN"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    times = sorted(outcome["times"])
    cpu = sorted(outcome["cpu"])
    print(f"{title}: pages {sum(c.values())}  TP {tp} FP {fp} FN {fn} TN {tn}  "
          f"precision {precision:.3f}  recall {recall:.3f}")
    if times:
        _times(times, cpu)
    for layer, counter in sorted(outcome["per_layer"].items()):
        lt, lf = counter["TP"], counter["FP"]
        print(f"  layer {layer:24} TP {lt:3} FP {lf:3} FN {counter['FN']:3} TN {counter['TN']:3}"
              f"  precision {lt / (lt + lf) if lt + lf else 1.0:.3f}")


def _times(times: list[float], cpu: list[float]) -> None:
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))] if times else 0.0
    cpu95 = cpu[min(len(cpu) - 1, int(len(cpu) * 0.95))] if cpu else 0.0
    print(f"  time per page: mean {statistics.mean(times):.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms"
          f" (CPU: median {statistics.median(cpu):.1f} ms, mean {statistics.mean(cpu):.1f} ms, p95 {cpu95:.1f} ms;"
          " wall time suffers on a busy machine)")


def _asked_report(asked: list[Asked], pages: int, verbose: bool) -> None:
    """The LLM layer's cost, and every page whose outcome it changed (-v: every page it saw)."""
    calls = [call for a in asked if a.answer is not None for call in a.answer.calls]
    prompt = sum(call.prompt_tokens for call in calls)
    completion = sum(call.completion_tokens for call in calls)
    validated = sum(1 for a in asked if a.answer is not None and a.answer.spec is not None)
    errors = sum(1 for a in asked if a.error)
    print(f"  LLM layer: asked on {len(asked)} of {pages} pages, {validated} validated answers, "
          f"{len(calls)} calls ({len(calls) / max(len(asked), 1):.1f} a page), tokens {prompt} prompt + "
          f"{completion} completion = {prompt + completion} ({(prompt + completion) / max(len(calls), 1):.0f} a call)"
          + (f", {errors} pages the server could not answer" if errors else ""))
    if asked:
        print(f"  LLM layer per asked page: wall mean {statistics.mean(a.wall_ms for a in asked):.1f} ms, CPU mean "
              f"{statistics.mean(a.cpu_ms for a in asked):.1f} ms (agent, client and validation; a real model "
              f"adds seconds of its own)")
    for a in asked:
        if a.before == a.after and not verbose:
            continue
        answer = a.answer
        calls = len(answer.calls) if answer is not None else 0
        print(f"  LLM {a.before} -> {a.after} {a.name:28} got={a.price} ({calls} calls)"
              + (f" server error: {a.error}" if a.error else ""))
        for selector, problems in a.rounds:
            problems = sorted(problems, key=lambda problem: not problem.startswith("price"))
            print(f"      {selector} :: {'; '.join(problems)[:160] if problems else 'validated'}")
        unparsed = calls - len(a.rounds)
        if unparsed:
            print(f"      {unparsed} answers without a price selector")


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


def _truth(folder: Path) -> dict:
    truth_path = folder / "truth.json"
    if not truth_path.exists():
        truth_path = folder.parent / "truth.json"
    return json.loads(truth_path.read_text())


def corpus_shops(folder: Path) -> dict[str, str]:
    """Each page's shop (truth.json's `shop`), the key pages are grouped by in shop mode."""
    return {name: record.get("shop") or name for name, record in _truth(folder).items()}


def default_corpora() -> list[Path]:
    """The fixtures, and the shared development corpora where a `shared` folder holds them."""
    found = [DEFAULT_CORPUS]
    for parent in ROOT.parents:
        shared = parent / "shared"
        if shared.is_dir():
            found.extend(shared / name for name in SHARED_CORPORA if (shared / name / "truth.json").exists())
            break
    return found


def shop_report(title: str, cases: list[tuple[str, bytes, Decimal | None]], shops: dict[str, str],
                verbose: bool) -> None:
    """Precision and recall of shop mode, and recall on the shops with two or more pages,
    page by page alone against shop by shop (LLM off)."""
    from tracker.extraction import extract as extract_alone
    from tracker.learning.by_shop import ShopPage, pages_extract_by_shop

    pages = [ShopPage(name=name, html=html, shop=shops.get(name, name)) for name, html, _expected in cases]
    started = time.process_time()
    readings = pages_extract_by_shop(pages=pages)
    cpu_ms = (time.process_time() - started) * 1000
    expected = {name: price for name, _html, price in cases}
    sizes = Counter(page.shop for page in pages)
    shop_mode = _empty()
    counts = {"alone": Counter(), "shop": Counter()}
    for reading in readings:
        name = reading.page.name
        status = _status(reading.result.price, expected[name])
        shop_mode["counts"][status] += 1
        shop_mode["per_layer"].setdefault(f"{reading.mode} {_layer(reading.result)}", Counter())[status] += 1
        if sizes[reading.page.shop] >= 2:
            counts["shop"][status] += 1
            counts["alone"][_status(extract_alone(reading.page.html).price, expected[name])] += 1
            if verbose and status in ("FP", "FN"):
                print(f"  by shop {status} {name:30} expected={expected[name]} got={reading.result.price} "
                      f"mode={reading.mode} :: {reading.result.reason or '; '.join(reading.notes)}"[:220])
    _report(f"{title}, by shop, LLM off", shop_mode)
    print(f"  CPU per page, the whole shop pass (read alone, learn, read again) over its pages: "
          f"{cpu_ms / max(len(cases), 1):.1f} ms")
    several = sum(1 for n in sizes.values() if n >= 2)
    for mode, c in counts.items():
        tp, fn, fp = c["TP"], c["FN"], c["FP"]
        print(f"  shops with 2+ pages ({several} shops, {sum(c.values())} pages), {mode:5}: TP {tp} FP {fp} FN {fn}"
              f"  precision {tp / (tp + fp) if tp + fp else 1.0:.3f}  recall {tp / (tp + fn) if tp + fn else 1.0:.3f}")


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def corpus_cases(folder: Path) -> list[tuple[str, bytes, Decimal | None]]:
    truth = _truth(folder)
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
    parser.add_argument("--corpus", type=Path, action="append", help="a corpus folder (repeatable)")
    parser.add_argument("--by-shop", action="store_true", help="also read each corpus shop by shop")
    parser.add_argument("--templates", type=Path, default=DEFAULT_TEMPLATES)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--llm", metavar="URL", help="OpenAI-compatible server for the LLM layer")
    source.add_argument("--llm-scripted", action="store_true",
                        help="LLM off and on, the LLM a scripted local server (bench/scripted_llm.py)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    server = None
    url = args.llm
    if args.llm_scripted:
        from scripted_llm import MODEL_NAME, ScriptedLLM

        server = ScriptedLLM().start()
        url = server.base_url
        os.environ["OPENAI_MODEL"] = MODEL_NAME
        print(f"LLM: scripted local server {url} (model {MODEL_NAME!r}: ranks price-like elements of the "
              "trimmed page, no truth file)")
    try:
        llm = _llm_layer(url, force_key=args.llm_scripted)
        if args.by_shop:
            _django()
        for corpus in args.corpus or default_corpora():
            if not corpus.exists():
                print(f"no corpus at {corpus}")
                continue
            cases = corpus_cases(corpus)
            label = f"real pages ({corpus.parent.name}/{corpus.name})"
            _run(label, cases, llm=llm, verbose=args.verbose)
            size_report(cases)
            if args.by_shop:
                shop_report(label, cases, corpus_shops(corpus), args.verbose)
        if (args.templates / "expected.json").exists():
            _run("templates", template_cases(args.templates), llm=llm, verbose=args.verbose)
    finally:
        if server is not None:
            server.stop()


def _run(title: str, cases: list[tuple[str, bytes, Decimal | None]], *, llm, verbose: bool) -> None:
    outcome = evaluate(cases, llm=llm, verbose=verbose)
    _report(f"{title}, LLM off", outcome["off"])
    if outcome["on"] is not None:
        _report(f"{title}, LLM on", outcome["on"])
        _asked_report(outcome["asked"], len(cases), verbose)


if __name__ == "__main__":
    main()

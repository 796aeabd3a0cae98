"""`manage.py extract PATH_OR_URL...`: run the extraction pipeline on saved pages or URLs.

No database needed. Prints one JSON object per input, in order; an input that cannot be read
or fetched gets an object with an `error` instead of stopping the run.

`--urls FILE` gives saved pages their addresses (one `PATH URL` pair a line); `--by-shop`
groups the inputs by shop and reads each shop's pages again with the one pattern learned from
those that answered (`tracker.learning.by_shop`); each object then says which `mode` answered.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker.extraction import extract
from tracker.extraction.patterns import PatternSpec

MAX_FILE_BYTES = 20 * 1024 * 1024


def _llm_hook():
    """The LLM layer, when present and configured: callable(html, result, url) -> result."""
    try:
        from tracker.learning.llm import llm_extract  # type: ignore[attr-defined]
    except ImportError:
        return None
    return llm_extract


class Command(BaseCommand):
    help = "Extract price, currency, availability and title from saved HTML files or URLs."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("inputs", nargs="+", metavar="PATH_OR_URL", help="an .html/.html.gz file or an http(s) URL")
        parser.add_argument("--no-llm", action="store_true", help="never ask the LLM agent")
        parser.add_argument("--pattern", type=Path, metavar="FILE.json", help="a PatternSpec as JSON to apply")
        parser.add_argument("--no-heuristics", action="store_true", help="structured data and pattern only")
        parser.add_argument("--urls", type=Path, metavar="FILE",
                            help="addresses of saved pages: one 'PATH URL' pair a line")
        parser.add_argument("--by-shop", action="store_true",
                            help="learn one pattern per shop from the pages that answered, then read them again")

    def handle(self, *args, **options):
        pattern = None
        if options["pattern"]:
            if options["by_shop"]:
                raise CommandError("--by-shop learns each shop's pattern: it does not take --pattern")
            try:
                pattern = PatternSpec.from_dict(json.loads(options["pattern"].read_text()))
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                raise CommandError(f"cannot read the pattern {options['pattern']}: {exc}") from None
        addresses = _addresses(options["urls"]) if options["urls"] else {}
        llm = None if options["no_llm"] else _llm_hook()
        use_heuristics = not options["no_heuristics"]
        if options["by_shop"]:
            rows = self._by_shop(options["inputs"], addresses, llm, use_heuristics)
        else:
            rows = (self._one(item, addresses, pattern, llm, use_heuristics) for item in options["inputs"])
        for row in rows:
            self.stdout.write(json.dumps(row, ensure_ascii=False))

    def _one(self, item: str, addresses: dict[str, str], pattern, llm, use_heuristics: bool) -> dict:
        html, url, error = _load(item, addresses)
        if error:
            return {"input": item, "error": error}
        result = extract(html, url=url, pattern=pattern, use_heuristics=use_heuristics)
        return _row(item, _with_llm(llm, html, result, url))

    def _by_shop(self, items: list[str], addresses: dict[str, str], llm, use_heuristics: bool) -> list[dict]:
        from tracker.learning.by_shop import ShopPage, pages_extract_by_shop

        loaded = [(item, *_load(item, addresses)) for item in items]
        pages = [ShopPage(name=item, html=html, url=url) for item, html, url, error in loaded if not error]
        readings = iter(pages_extract_by_shop(pages=pages, use_heuristics=use_heuristics))
        rows = []
        for item, html, url, error in loaded:
            if error:
                rows.append({"input": item, "error": error})
                continue
            reading = next(readings)
            row = _row(item, _with_llm(llm, html, reading.result, url))
            row.update(
                mode=reading.mode,
                shop=reading.page.shop,
                pattern=reading.pattern.price.selector if reading.pattern else None,
                notes=reading.notes,
            )
            rows.append(row)
        return rows


def _addresses(path: Path) -> dict[str, str]:
    """`PATH URL` pairs, whitespace-separated, one a line; blank lines and `#` comments skipped.
    Paths are matched as given and as resolved, so `./a.html` and `a.html` are the same page."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise CommandError(f"cannot read the addresses {path}: {exc}") from None
    addresses: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) != 2 or not parts[1].startswith(("http://", "https://")):
            raise CommandError(f"{path}:{number}: expected 'PATH URL', got {line.strip()!r}")
        addresses[parts[0]] = parts[1]
        addresses[str(Path(parts[0]).resolve())] = parts[1]
    return addresses


def _load(item: str, addresses: dict[str, str]) -> tuple[str | bytes | None, str | None, str | None]:
    """The page's bytes or text, its address, or an error."""
    if item.startswith(("http://", "https://")):
        from tracker.fetching import FetchError, fetch_page

        try:
            page = fetch_page(item)
        except FetchError as exc:
            return None, None, str(exc)
        return page.text, page.final_url, None
    try:
        html = _read(Path(item))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        return None, None, f"cannot read the file: {exc}"
    return html, addresses.get(item) or addresses.get(str(Path(item).resolve())), None


def _with_llm(llm, html, result, url):
    if llm is not None and result.price is None and not result.flagged:
        try:
            return llm(html=html, result=result, url=url)
        except Exception as exc:  # the LLM layer is optional: report, keep the result
            result.reason = f"{result.reason}; LLM failed: {exc}"
    return result


def _row(item: str, result) -> dict:
    data = result.as_dict()
    return {
        "input": item,
        "price": data["price"],
        "currency": data["currency"],
        "availability": data["availability"],
        "title": data["title"],
        "layer": data["method"],
        "confidence": data["confidence"],
        "flagged": data["flagged"],
        "reason": data["reason"],
        "disagreements": data["disagreements"],
        "selector": data.get("selector"),
    }


def _read(path: Path) -> bytes:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise OSError(f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    data = path.read_bytes()
    if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
        with gzip.open(path) as fh:
            data = fh.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES]
    return data

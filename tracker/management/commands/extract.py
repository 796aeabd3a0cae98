"""`manage.py extract PATH_OR_URL...`: run the extraction pipeline on saved pages or URLs.

No database needed. Prints one JSON object per input, in order; an input that cannot be read
or fetched gets an object with an `error` instead of stopping the run.
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

    def handle(self, *args, **options):
        pattern = None
        if options["pattern"]:
            try:
                pattern = PatternSpec.from_dict(json.loads(options["pattern"].read_text()))
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                raise CommandError(f"cannot read the pattern {options['pattern']}: {exc}") from None
        llm = None if options["no_llm"] else _llm_hook()
        for item in options["inputs"]:
            self.stdout.write(json.dumps(self._one(item, pattern, llm, not options["no_heuristics"]), ensure_ascii=False))

    def _one(self, item: str, pattern, llm, use_heuristics: bool) -> dict:
        url = None
        try:
            if item.startswith(("http://", "https://")):
                from tracker.fetching import FetchError, fetch_page

                try:
                    page = fetch_page(item)
                except FetchError as exc:
                    return {"input": item, "error": str(exc)}
                html: str | bytes = page.text
                url = page.final_url
            else:
                html = _read(Path(item))
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            return {"input": item, "error": f"cannot read the file: {exc}"}
        result = extract(html, url=url, pattern=pattern, use_heuristics=use_heuristics)
        if llm is not None and result.price is None and not result.flagged:
            try:
                result = llm(html=html, result=result, url=url)
            except Exception as exc:  # the LLM layer is optional: report, keep the result
                result.reason = f"{result.reason}; LLM failed: {exc}"
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

"""`manage.py extract`: the whole pipeline on saved files and URLs, no database."""

from __future__ import annotations

import gzip
import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TEMPLATES = FIXTURES / "templates"
PAGES = FIXTURES / "pages"


def _run(*args: str) -> list[dict]:
    out = StringIO()
    call_command("extract", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_it_prints_one_json_object_per_file_in_order():
    rows = _run(str(TEMPLATES / "zloty.html"), str(PAGES / "nike-com.html.gz"), "--no-llm")
    assert [r["price"] for r in rows] == ["12.50", "75.00"]
    assert rows[0]["currency"] == "PLN" and rows[0]["layer"] == "heuristic"
    assert rows[1]["currency"] == "USD" and rows[1]["layer"] == "json-ld"
    assert rows[1]["title"]


def test_a_page_without_a_price_says_why():
    (row,) = _run(str(TEMPLATES / "no-price.html"), "--no-llm")
    assert row["price"] is None
    assert row["reason"]


def test_an_unreadable_input_is_reported_and_the_run_goes_on(tmp_path):
    broken = tmp_path / "broken.html.gz"
    broken.write_bytes(b"\x1f\x8bnot really gzip")
    rows = _run(str(tmp_path / "missing.html"), str(broken), str(TEMPLATES / "pound-short.html"), "--no-llm")
    assert "error" in rows[0] and "error" in rows[1]
    assert rows[2]["price"] == "5.00"


def test_it_takes_hundreds_of_files_in_one_run(tmp_path):
    source = (TEMPLATES / "jsonld-simple.html").read_bytes()
    paths = []
    for i in range(300):
        path = tmp_path / f"p{i}.html.gz"
        path.write_bytes(gzip.compress(source))
        paths.append(str(path))
    rows = _run(*paths, "--no-llm")
    assert len(rows) == 300
    assert {r["price"] for r in rows} == {"39.99"}


def test_a_pattern_file_is_applied(tmp_path):
    pattern = tmp_path / "pattern.json"
    pattern.write_text(json.dumps({"price": {"selector": "span.cena", "kind": "css"}}))
    (row,) = _run(str(TEMPLATES / "zloty.html"), "--pattern", str(pattern), "--no-llm")
    assert row["price"] == "12.50"
    assert row["layer"] == "pattern"


def test_a_bad_pattern_file_is_a_clear_error(tmp_path):
    pattern = tmp_path / "pattern.json"
    pattern.write_text("{not json")
    with pytest.raises(CommandError, match="cannot read the pattern"):
        _run(str(TEMPLATES / "zloty.html"), "--pattern", str(pattern))


@pytest.fixture
def template_server():
    handler = partial(SimpleHTTPRequestHandler, directory=str(TEMPLATES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=5)


def test_urls_are_fetched_and_extracted(template_server, settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    rows = _run(f"{template_server}/euro-format.html", f"{template_server}/missing.html", "--no-llm")
    assert rows[0]["price"] == "1299.00" and rows[0]["currency"] == "EUR"
    assert "404" in rows[1]["error"]

"""`manage.py extract`: the whole pipeline on saved files and URLs, no database."""

from __future__ import annotations

import gzip
import json
import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.tracker.shop_pages import PRODUCTS, shop_page

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


# --- shop mode ------------------------------------------------------------------------------


def _shop_pages(tmp_path: Path, count: int = 3) -> list[Path]:
    """A shop's saved product pages: the first carries JSON-LD, the others only a buy box that
    also prints the price for two, so read alone they cannot tell which amount is the price."""
    paths = []
    for index in range(count):
        html = shop_page(index, structured=index == 0)
        if index:
            _name, now, was = PRODUCTS[index]
            html = re.sub(
                r'<div class="price-box">.*?</div>',
                f'<div class="price-box"><span class="price-now">${now}</span> '
                f'<span class="price-set">${was}</span> for two</div>',
                html,
            )
        path = tmp_path / f"page-{index}.html"
        path.write_text(html)
        paths.append(path)
    return paths


def _addresses(tmp_path: Path, paths: list[Path], host: str = "127.0.0.1:8000") -> Path:
    urls = tmp_path / "urls.txt"
    urls.write_text("# saved pages and where they came from\n" + "".join(
        f"{path}\thttp://{host}/p/{index}\n" for index, path in enumerate(paths)
    ))
    return urls


def test_by_shop_a_page_with_structured_data_teaches_the_shop_its_pattern(tmp_path):
    paths = _shop_pages(tmp_path)
    rows = _run(*map(str, paths), "--urls", str(_addresses(tmp_path, paths)), "--by-shop", "--no-llm")
    assert [r["price"] for r in rows] == ["149.00", "89.50", "45.99"]
    assert [r["mode"] for r in rows] == ["shop", "shop", "shop"]
    assert [r["layer"] for r in rows] == ["json-ld", "pattern", "pattern"]
    assert {r["shop"] for r in rows} == {"127.0.0.1"}
    assert rows[1]["pattern"] == "span.price-now"


def test_without_by_shop_nothing_changes(tmp_path):
    paths = _shop_pages(tmp_path)
    rows = _run(*map(str, paths), "--urls", str(_addresses(tmp_path, paths)), "--no-llm")
    assert [r["price"] for r in rows] == ["149.00", None, None]
    assert "several prices compete" in rows[1]["reason"]
    assert all("mode" not in r for r in rows)


def test_by_shop_pages_are_grouped_by_the_trackers_store_key(tmp_path):
    paths = _shop_pages(tmp_path)
    urls = tmp_path / "urls.txt"
    # Two addresses of one store (www. dropped, as the tracker does) and one of another store.
    urls.write_text(f"{paths[0]} https://www.shop.test/p/0\n{paths[1]} https://shop.test/p/1\n"
                    f"{paths[2]} https://other.test/p/2\n")
    rows = _run(*map(str, paths), "--urls", str(urls), "--by-shop", "--no-llm")
    assert [r["shop"] for r in rows] == ["shop.test", "shop.test", "other.test"]
    assert rows[1]["price"] == "89.50" and rows[1]["mode"] == "shop"
    assert rows[2]["price"] is None and rows[2]["mode"] == "single"
    assert "only page of its shop" in rows[2]["notes"][0]


def test_by_shop_a_page_without_an_address_is_read_alone(tmp_path):
    paths = _shop_pages(tmp_path)
    rows = _run(*map(str, paths), "--by-shop", "--no-llm")
    assert [r["mode"] for r in rows] == ["single"] * 3
    assert [r["price"] for r in rows] == ["149.00", None, None]
    assert rows[0]["notes"] == ["no address: read alone"]


def test_by_shop_no_pattern_is_learned_when_no_page_answered_alone(tmp_path):
    paths = _shop_pages(tmp_path)[1:]
    rows = _run(*map(str, paths), "--urls", str(_addresses(tmp_path, paths)), "--by-shop", "--no-llm")
    assert [r["price"] for r in rows] == [None, None]
    assert "no page of its shop answered alone" in rows[0]["notes"][0]


def test_by_shop_keeps_unreadable_inputs_in_order(tmp_path):
    paths = _shop_pages(tmp_path)
    missing = tmp_path / "missing.html"
    rows = _run(str(paths[0]), str(missing), str(paths[1]), "--urls", str(_addresses(tmp_path, paths)),
                "--by-shop", "--no-llm")
    assert "error" in rows[1]
    assert rows[2]["price"] == "89.50"


def test_a_bad_addresses_file_is_a_clear_error(tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text("page.html not-a-url\n")
    with pytest.raises(CommandError, match="expected 'PATH URL'"):
        _run(str(TEMPLATES / "zloty.html"), "--urls", str(urls))


def test_by_shop_does_not_take_a_pattern(tmp_path):
    pattern = tmp_path / "pattern.json"
    pattern.write_text(json.dumps({"price": {"selector": "span.cena", "kind": "css"}}))
    with pytest.raises(CommandError, match="--by-shop"):
        _run(str(TEMPLATES / "zloty.html"), "--pattern", str(pattern), "--by-shop")

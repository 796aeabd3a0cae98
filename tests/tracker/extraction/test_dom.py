"""Reading a page's DOM the way a shopper sees it (tracker/extraction/dom.py)."""

import lxml.html

from tracker.extraction.dom import page_scan, price_text, visible_bounded_text
from tracker.extraction.parsing import parse_html


def test_price_text_puts_a_tail_after_the_text_of_its_element():
    el = lxml.html.fragment_fromstring('<span><span class="a-price"><b>$48.00</b></span> (10%)</span>')
    assert price_text(el) == "$48.00 (10%)"


def test_price_text_leaves_out_whole_hidden_subtrees():
    el = lxml.html.fragment_fromstring('<span>$30.00<span style="display:none"><b>$99.00</b></span> each</span>')
    assert price_text(el) == "$30.00 each"


def test_price_text_reads_screen_reader_hidden_pieces_that_the_parent_speaks_for():
    el = lxml.html.fragment_fromstring(
        '<span aria-label="$37.30">$<span aria-hidden="true">37</span><span aria-hidden="true">.30</span></span>'
    )
    assert price_text(el) == "$37.30"


def test_visible_bounded_text_leaves_hidden_labels_out():
    tree = parse_html(
        '<html><body><h1>Goo</h1><div id="grid"><div style="display:none">RRP:</div><em>$10.95</em></div></body></html>'
    )
    page = page_scan(tree)
    grid = tree.get_element_by_id("grid")
    assert visible_bounded_text(grid, 400, page) == "$10.95"


def test_price_text_of_an_element_too_large_to_read_reads_as_longer_than_the_limit():
    el = lxml.html.fragment_fromstring("<div>$30.00" + "<i></i>" * 80 + "and a list of other teapots</div>")
    assert len(price_text(el, 120)) > 120


def test_carousel_slides_hidden_from_screen_readers_stay_hidden():
    el = lxml.html.fragment_fromstring(
        '<ul aria-label="Recommended products"><li>Mug $9.00</li><li aria-hidden="true">Jug $19.00</li></ul>'
    )
    assert price_text(el) == "Mug $9.00"


def test_the_zone_test_answers_as_its_regex_on_every_class_and_id_of_the_real_pages():
    """`names_a_zone` skips the regex when no hint word is present: the shortcut must never
    change an answer."""
    import gzip
    from pathlib import Path

    from tracker.extraction.dom import _ZONE_WORDS, names_a_zone

    names = {"Related-Products", "js-tooltip", "has-popover", "popover-trigger", "TopSeller", "top-seller", "owl-stage"}
    for path in sorted((Path(__file__).parents[2] / "fixtures" / "pages").glob("*.html.gz")):
        tree = parse_html(gzip.decompress(path.read_bytes()))
        for el in tree.iter():
            if isinstance(el.tag, str):
                names.update(value for value in (el.get("class"), el.get("id")) if value)
    assert len(names) > 10_000
    assert [n for n in names if names_a_zone(n) != bool(_ZONE_WORDS.search(n))] == []
    assert sum(names_a_zone(n) for n in names) > 500

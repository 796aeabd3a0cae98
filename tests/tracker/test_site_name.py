"""The shop's name read from its pages (tracker.extraction.site_name): pure, no network."""

from __future__ import annotations

import pytest

from tracker.extraction.site_name import site_name

URL = "http://127.0.0.1:8001/p/kettle"


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        ('<meta property="og:site_name" content=" Kettle  World ">', "", "Kettle World"),
        (
            '<script type="application/ld+json">{"@type": "Product", "name": "Kettle", "offers": '
            '{"@type": "Offer", "price": "9", "seller": {"@type": "Organization", "name": "Brew Bros"}}}</script>',
            "",
            "Brew Bros",
        ),
        (
            '<script type="application/ld+json">[{"@type": "OnlineStore", "name": "Pots & Pans"}]</script>',
            "",
            "Pots & Pans",
        ),
        ("<title>Copper Kettle 1L | Demo Shop</title>", "<h1>Copper Kettle 1L</h1>", "Demo Shop"),
        ("<title>Copper Kettle 1L - Kitchen Corner</title>", "<h1>Copper  kettle 1l</h1>", "Kitchen Corner"),
    ],
    ids=["og-site-name", "jsonld-seller", "jsonld-store", "title-pipe", "title-dash"],
)
def test_it_reads_the_shops_own_name(head, body, expected):
    html = f"<html><head>{head}</head><body>{body}</body></html>"
    assert site_name(html=html, url=URL) == expected


def test_og_site_name_wins_over_the_title():
    html = ('<html><head><title>Kettle | Other words</title><meta property="og:site_name" content="Kettle World">'
            "</head><body><h1>Kettle</h1></body></html>")
    assert site_name(html=html, url=URL) == "Kettle World"


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>Copper Kettle 1L</title></head><body><h1>Copper Kettle 1L</h1></body></html>",
        # the suffix is not confirmed: the heading is something else and the host does not spell it
        "<html><head><title>Save 20% - Copper Kettle</title></head><body><h1>Offers</h1></body></html>",
        '<html><head><meta property="og:site_name" content="12345"></head></html>',
        '<html><head><meta property="og:site_name" content="https://127.0.0.1/"></head></html>',
        "",
    ],
    ids=["no-separator", "unconfirmed-suffix", "digits", "an-address", "empty"],
)
def test_it_says_nothing_rather_than_guess(html):
    assert site_name(html=html, url=URL) == ""


def test_a_title_suffix_that_spells_the_host_is_the_name():
    html = "<html><head><title>Kettle deals of the week | Brewhaus</title></head><body></body></html>"
    assert site_name(html=html, url="https://www.brewhaus.test/kettle") == "Brewhaus"

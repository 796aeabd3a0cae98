"""Every price says how it was read: the layer, where on the page, and the text it came from."""

from __future__ import annotations

from decimal import Decimal

from tests.tracker.shop_pages import shop_page, spec
from tracker.extraction import extract


def test_a_json_ld_price_points_at_its_offer_and_quotes_it():
    result = extract(shop_page(0, structured=True, price="24.99"))

    assert (result.price, result.method) == (Decimal("24.99"), "json-ld")
    assert result.evidence["source"] == "JSON-LD offers.price"
    assert '"price": "24.99"' in result.evidence["text"]
    assert len(result.evidence["text"]) <= 200


def test_a_microdata_and_an_opengraph_price_name_the_attribute_they_came_from():
    body = "<h1>Copper kettle</h1><p>Price: 49,90 €</p>"
    microdata = extract(
        f'<html><body><div itemscope itemtype="https://schema.org/Product">{body}'
        '<span itemprop="name">Copper kettle</span>'
        '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        '<meta itemprop="price" content="49.90"><meta itemprop="priceCurrency" content="EUR"></div></div></body></html>'
    )
    opengraph = extract(
        '<html><head><meta property="og:title" content="Copper kettle">'
        '<meta property="product:price:amount" content="49.90">'
        f'<meta property="product:price:currency" content="EUR"></head><body>{body}</body></html>'
    )

    assert microdata.method == "microdata" and microdata.evidence["source"] == 'microdata itemprop="price"'
    assert 'content="49.90"' in microdata.evidence["text"]
    assert opengraph.method == "opengraph" and "product:price:amount" in opengraph.evidence["source"]
    assert 'content="49.90"' in opengraph.evidence["text"]


def test_a_pattern_price_names_the_selector_and_the_text_it_matched():
    result = extract(shop_page(1), pattern=spec(".price-box .price-now"))

    assert result.method == "pattern"
    assert result.evidence == {"source": "pattern .price-box .price-now", "text": f"${result.price}"}


def test_a_heuristic_price_names_the_element_it_chose_and_its_text():
    result = extract(shop_page(2))

    assert result.method == "heuristic"
    assert result.evidence["source"].startswith("heuristics")
    assert str(result.price) in result.evidence["text"].replace(",", "")


def test_no_price_has_no_evidence():
    result = extract("<html><body><h1>Shipping</h1><p>We ship worldwide.</p></body></html>")

    assert result.price is None and result.evidence is None

"""The demo shop: real HTTP, every page template, prices that move on a known schedule."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from protego import Protego

from demoshop.catalogue import PRICE_PERIOD_MINUTES, PRODUCTS, in_stock_at, price_at, was_price_at
from demoshop.pages import TEMPLATES, money
from demoshop.server import start_in_thread
from tracker.extraction import Availability, extract
from tracker.extraction.parsing import parse_html
from tracker.extraction.structured import first_with_price, structured_offers

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
STRUCTURED = [p for p in PRODUCTS if p.template != "plain"]


@pytest.fixture(scope="module")
def shop():
    with start_in_thread(clock=lambda: NOW) as running:
        yield running


def get(url: str) -> requests.Response:
    response = requests.get(url, timeout=5)
    return response


def test_every_template_is_served_by_some_product():
    assert {p.template for p in PRODUCTS} == set(TEMPLATES)


@pytest.mark.parametrize("product", STRUCTURED, ids=lambda p: p.template)
def test_the_extractor_reads_the_price_the_shop_shows_now(shop, product):
    response = get(shop.product_url(product.slug))

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    result = extract(response.text, url=response.url)
    assert result.price == price_at(product.slug, NOW), result
    assert result.currency == product.currency
    expected_stock = Availability.IN_STOCK if in_stock_at(product.slug, NOW) else Availability.OUT_OF_STOCK
    assert result.availability == expected_stock
    assert result.title == product.name


@pytest.mark.parametrize("product", PRODUCTS, ids=lambda p: p.template)
def test_the_page_shows_the_price_as_people_read_it_in_its_currency(shop, product):
    html = get(shop.product_url(product.slug)).text

    assert money(price_at(product.slug, NOW), product.currency) in html


def test_euro_and_zloty_pages_use_their_local_number_format(shop):
    euro = next(p for p in PRODUCTS if p.template == "euro")
    zloty = next(p for p in PRODUCTS if p.template == "zloty")

    assert re.search(r"\d{1,3}(\.\d{3})*,\d{2} €", get(shop.product_url(euro.slug)).text)
    assert re.search(r"\d+,\d{2} zł", get(shop.product_url(zloty.slug)).text)


def test_the_was_price_page_shows_a_higher_crossed_out_price_and_the_extractor_ignores_it(shop):
    product = next(p for p in PRODUCTS if p.template == "was_price")
    html = get(shop.product_url(product.slug)).text
    was = was_price_at(product.slug, NOW)

    assert was > price_at(product.slug, NOW)
    assert "<del" in html and money(was, product.currency) in html
    assert extract(html).price == price_at(product.slug, NOW)


def test_the_out_of_stock_page_still_states_its_price(shop):
    product = next(p for p in PRODUCTS if p.template == "out_of_stock")
    result = extract(get(shop.product_url(product.slug)).text)

    assert result.availability == Availability.OUT_OF_STOCK
    assert result.price == price_at(product.slug, NOW)


def test_a_page_without_structured_data_has_no_structured_price_and_never_a_wrong_one(shop):
    product = next(p for p in PRODUCTS if p.template == "plain")
    html = get(shop.product_url(product.slug)).text

    assert first_with_price(structured_offers(parse_html(html))) is None
    result = extract(html)
    assert result.price in (None, price_at(product.slug, NOW))  # later layers may find it
    assert result.price is not None or result.reason


def test_prices_move_between_periods_and_pages_follow_the_clock():
    later = NOW + timedelta(minutes=PRICE_PERIOD_MINUTES)
    periods = [NOW + timedelta(minutes=PRICE_PERIOD_MINUTES * i) for i in range(12)]
    product = PRODUCTS[0]
    prices = {price_at(product.slug, when) for when in periods}
    assert len(prices) > 1, "the price never moved over 12 periods"
    assert price_at(product.slug, NOW) == price_at(product.slug, NOW + timedelta(seconds=1))

    moving = next(p for p in STRUCTURED if price_at(p.slug, NOW) != price_at(p.slug, later))
    clock = {"now": NOW}
    with start_in_thread(clock=lambda: clock["now"]) as shop:
        before = extract(get(shop.product_url(moving.slug)).text).price
        clock["now"] = later
        after = extract(get(shop.product_url(moving.slug)).text).price

    assert (before, after) == (price_at(moving.slug, NOW), price_at(moving.slug, later))


def test_the_v2_theme_changes_the_markup_but_not_the_price(shop):
    product = PRODUCTS[0]
    with start_in_thread(clock=lambda: NOW, theme="v2") as redesigned:
        v2 = get(redesigned.product_url(product.slug)).text
    v1 = get(shop.product_url(product.slug)).text

    assert 'class="price-current"' in v1 and 'class="price-current"' not in v2
    assert "pdp-price__value" in v2
    assert extract(v2).price == extract(v1).price == price_at(product.slug, NOW)


def test_set_theme_switches_a_running_shop():
    with start_in_thread(clock=lambda: NOW) as shop:
        url = shop.product_url(PRODUCTS[0].slug)
        assert "price-current" in get(url).text
        shop.set_theme("v2")
        assert "price-current" not in get(url).text
        with pytest.raises(ValueError):
            shop.set_theme("v3")


def test_robots_txt_allows_every_page(shop):
    robots = Protego.parse(get(f"{shop.url}/robots.txt").text)

    assert robots.can_fetch(shop.product_url(PRODUCTS[0].slug), "PriceTracker")


def test_the_index_links_every_product(shop):
    html = get(shop.url + "/").text

    for product in PRODUCTS:
        assert f'href="/product/{product.slug}"' in html


def test_unknown_pages_are_404_and_the_price_list_is_a_pdf(shop):
    assert get(f"{shop.url}/product/no-such-thing").status_code == 404
    pdf = get(f"{shop.url}/downloads/price-list.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_longer_page_on_request_still_extracts(shop):
    product = PRODUCTS[1]
    html = get(shop.product_url(product.slug) + "?reviews=400").text

    assert len(html) > 60_000
    assert extract(html).price == price_at(product.slug, NOW)


def test_the_shop_answers_requests_in_parallel(shop):
    from concurrent.futures import ThreadPoolExecutor

    url = shop.product_url(PRODUCTS[0].slug)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: get(url).status_code, range(64)))

    assert statuses == [200] * 64

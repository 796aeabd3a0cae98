from decimal import Decimal as D
from pathlib import Path

import pytest

from deals.scout import feeds
from deals.scout.feeds import parse_availability

from .feeds_data import ATOM, HTML_PAGE_1, HTML_PATTERN, JSON_FEED, RSS


def test_it_reads_rss_items_with_prices_from_fields_or_titles():
    items = feeds.parse_rss(RSS, base_url="http://deals.test/")
    by_id = {i.external_id: i for i in items}
    assert by_id["deal-1001"].price == D("499.99") and by_id["deal-1001"].currency == "USD"
    assert by_id["deal-1002"].price == D("279.00")
    assert by_id["deal-1002"].condition == "used"
    assert by_id["deal-1002"].image_url == "http://deals.test/img/1002.jpg"
    assert by_id["deal-1003"].price == D("1299.00") and by_id["deal-1003"].currency == "GBP"


def test_it_reads_atom_with_relative_links_and_european_prices():
    items = feeds.parse_rss(ATOM, base_url="http://deals.test/feed.atom")
    assert items[0].url == "http://deals.test/deal/a1"
    assert items[0].price == D("549.00") and items[0].currency == "EUR"
    assert items[1].price is None  # no price is invented


def test_it_reads_json_feeds_with_nested_prices():
    items = feeds.parse_json(JSON_FEED, base_url="http://deals.test/")
    assert [(i.external_id, i.price) for i in items] == [("j1", D("519.00")), ("j2", D("489.00")), ("j3", D("12.99"))]
    assert items[0].seller == "ShopA" and items[0].condition == "new"


def test_it_reads_html_list_pages_by_pattern_and_finds_the_next_page():
    items, next_url = feeds.parse_html_list(HTML_PAGE_1, base_url="http://deals.test/list", pattern=HTML_PATTERN)
    assert [(i.external_id, i.price, i.condition, i.seller) for i in items] == [
        ("h1", D("579.00"), "new", "alice"),
        ("h2", D("420.00"), "used", "bob"),
    ]
    assert items[0].url == "http://deals.test/item/h1"
    assert next_url == "http://deals.test/list?page=2"


@pytest.mark.parametrize("payload", ["", "<html>not a feed", "{{{{", "<rss><channel><item><title>x"])
def test_malformed_feeds_raise_a_clear_error_or_give_nothing(payload):
    try:
        items = feeds.parse_rss(payload, base_url="http://deals.test/")
    except feeds.FeedError as exc:
        assert "feed" in str(exc)
    else:
        assert all(i.title for i in items)


def test_malformed_json_raises_a_clear_error():
    with pytest.raises(feeds.FeedError, match="JSON"):
        feeds.parse_json("{not json", base_url="http://deals.test/")
    with pytest.raises(feeds.FeedError, match="no list"):
        feeds.parse_json('"just a string"', base_url="http://deals.test/")


def test_an_html_source_without_a_pattern_is_refused():
    with pytest.raises(feeds.FeedError, match="pattern"):
        feeds.parse_html_list(HTML_PAGE_1, base_url="http://deals.test/", pattern={})
    with pytest.raises(feeds.FeedError, match="selector"):
        feeds.parse_html_list(HTML_PAGE_1, base_url="http://deals.test/", pattern={"item": "li[", "title": "a"})


# --- Fixtures in the shape of real deal feeds (hand-made: see fixtures/README.md) -----------

FIXTURES = Path(__file__).parent / "fixtures"


def _read(name):
    return (FIXTURES / name).read_text()


def test_rss_with_the_price_only_in_the_title_or_description():
    items = {i.external_id: i for i in feeds.parse_rss(_read("rss_price_in_title.xml"), base_url="https://community-deals.test/")}
    assert items["thread-1771001"].price == D("279.99") and items["thread-1771001"].currency == "USD"
    assert items["thread-1771001"].seller == "dealhunter42"
    assert items["thread-1771001"].image_url == "https://img.community-deals.test/1771001.jpg"
    assert items["thread-1771003"].price == D("19.99")
    assert all(not i.url.lower().startswith("javascript") for i in items.values())


def test_rss_with_a_namespaced_merchant_element_gives_its_price_and_name():
    items = feeds.parse_rss(_read("rss_merchant_namespace.xml"), base_url="https://deal-community.test/")
    black = next(i for i in items if i.title == "Sony WH-1000XM5 Black")
    assert (black.price, black.currency, black.seller) == (D("289.00"), "USD", "Shop Three")
    case = next(i for i in items if i.title.startswith("Travel carrying case"))
    assert case.price == D("24.99")  # from the description's HTML, not the "was" price after it


def test_a_google_merchant_feed_gives_price_condition_and_stock():
    items = {i.external_id: i for i in feeds.parse_rss(_read("rss_google_merchant.xml"), base_url="https://shop-two.test/")}
    silver, renewed = items["S2-WH1000XM5-SLV"], items["S2-WH1000XM5-RNW"]
    assert (silver.price, silver.currency, silver.condition, silver.in_stock) == (D("299.00"), "USD", "new", False)
    assert (renewed.condition, renewed.in_stock, renewed.image_url) == ("refurbished", True, "")  # data: image dropped


def test_atom_with_xml_base_html_content_and_a_data_link():
    items = feeds.parse_rss(_read("atom_deals.xml"), base_url="https://euro-deals.test/feed.atom")
    by_title = {i.title: i for i in items}
    bundle = by_title["Sony WH-1000XM5 Bundle mit Reiseetui"]
    assert (bundle.url, bundle.price, bundle.currency) == ("https://euro-deals.test/deal/5501", D("349.00"), "EUR")
    assert by_title["Sony WH-1000XM5 schwarz"].price == D("289.00")  # the price, not the "statt" one after it
    assert by_title["A data link"].url == ""


def test_json_feed_1_1_with_an_extension_object():
    items = {i.external_id: i for i in feeds.parse_json(_read("jsonfeed_1_1.json"), base_url="https://deal-radar.test/feed.json")}
    first = items["dr-20261206-01"]
    assert (first.price, first.currency, first.in_stock, first.condition) == (D("279.99"), "USD", True, "new")
    assert (items["dr-20261206-02"].price, items["dr-20261206-02"].in_stock) == (D("309.00"), False)
    assert items["dr-20261206-03"].url == ""  # javascript: link dropped, the item kept by its id


def test_an_html_listing_page_with_condition_stock_and_next():
    pattern = {
        "item": "li.card", "title": ".card__title", "url": "a.card__link", "price": ".card__price .amount",
        "condition": ".card__condition", "seller": ".card__seller", "availability": ".card__stock",
        "id": "li.card", "id_attribute": "data-listing", "next": "a[rel=next]",
    }
    items, next_url = feeds.parse_html_list(_read("html_listing.html"), base_url="https://market.test/search?q=x", pattern=pattern)
    by_id = {i.external_id: i for i in items}
    assert by_id["mk-7001"].condition == "used"  # "Used – like new" is used
    assert by_id["mk-7001"].price == D("239.00") and by_id["mk-7001"].in_stock is True
    assert by_id["mk-7002"].url == ""
    assert by_id["mk-7003"].in_stock is False
    assert next_url == "https://market.test/search?q=wh-1000xm5&page=2"


@pytest.mark.parametrize(
    "said, stock",
    [("in stock", True), ("in_stock", True), ("https://schema.org/InStock", True), ("out_of_stock", False),
     ("Sold out", False), ("http://schema.org/OutOfStock", False), (True, True), (False, False), ("", None), ("ask us", None)],
)
def test_availability_is_read_from_what_feeds_say(said, stock):
    assert parse_availability(said) is stock

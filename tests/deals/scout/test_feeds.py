from decimal import Decimal as D

import pytest

from deals.scout import feeds

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

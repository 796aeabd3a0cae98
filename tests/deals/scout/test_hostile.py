"""Hostile feeds: too deep, too large, links that are not links, a refused `next`, too many
pages. Each gives a recorded reason on the source and loses nothing that was valid."""

import json
import time

import pytest
from django.urls import reverse

from deals.models import DealListing, DealSource
from deals.scout import feeds, reconcile, scan
from deals.scout.forms import DealSourceForm

from .feeds_data import HTML_PATTERN

pytestmark = pytest.mark.django_db

VALID = [
    {"id": "ok-1", "url": "https://shop.test/1", "title": "RTX 4070 Eagle", "price": "519.00", "currency": "USD"},
    {"id": "ok-2", "url": "/relative/2", "title": "RTX 4070 Founders", "price": "489.00", "currency": "USD"},
]


def _json_source(feed_server, body, owner=None):
    url = feed_server.serve("/feed.json", body, "application/json")
    return DealSource.objects.create(name="hostile", kind="json", url=url, owner=owner)


def test_a_json_feed_nested_200000_deep_is_a_recorded_error_not_a_crash(feed_server, client, user):
    source = _json_source(feed_server, '{"items": ' + "[" * 200_000 + "]" * 200_000 + "}", owner=user)
    report = scan.source_scan(source=source)
    assert not report.ok and "SCOUT_FEED_MAX_DEPTH" in report.error
    source.refresh_from_db()
    assert source.last_status == "error" and "nested deeper" in source.last_error
    client.force_login(user)
    assert "nested deeper" in client.get(reverse("scout:sources")).content.decode()


def test_an_xml_feed_nested_deep_is_refused_before_the_parser_crawls_it(feed_server):
    body = '<?xml version="1.0"?><rss version="2.0"><channel><item><title>x $1</title>' + "<b>" * 100_000 + "</b>" * 100_000 + "</item></channel></rss>"
    source = DealSource.objects.create(name="deep", kind="feed", url=feed_server.serve("/deep.xml", body, "application/rss+xml"))
    started = time.monotonic()
    report = scan.source_scan(source=source)
    assert not report.ok and "SCOUT_FEED_MAX_DEPTH" in report.error
    assert time.monotonic() - started < 20  # feedparser alone takes about half a minute on this


def test_a_normal_feed_with_cdata_html_and_comments_is_not_taken_for_deep(settings):
    settings.SCOUT_FEED_MAX_DEPTH = 8
    rss = (
        '<?xml version="1.0"?><!-- a comment <a><b><c> --><rss version="2.0"><channel><title>t</title>'
        "<item><title>RTX 4070 $499</title><link>http://shop.test/1</link>"
        "<description><![CDATA[" + "<p><br>" * 50 + "]]></description></item></channel></rss>"
    )
    assert [i.price for i in feeds.parse_rss(rss, base_url="http://shop.test/")] == [499]


def test_a_feed_larger_than_the_setting_is_refused_with_the_reason(feed_server, settings):
    settings.SCOUT_FEED_MAX_BYTES = 2_000
    body = json.dumps({"items": VALID + [{"id": f"pad-{i}", "title": "x" * 100, "url": "https://shop.test/x"} for i in range(40)]})
    source = _json_source(feed_server, body)
    report = scan.source_scan(source=source)
    assert not report.ok
    source.refresh_from_db()
    assert source.last_status == "error" and source.last_error
    with pytest.raises(feeds.FeedError, match="SCOUT_FEED_MAX_BYTES"):
        feeds.parse_json(body, base_url="https://shop.test/")


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "mailto:a@b.test", "http://", "//"],
)
def test_links_that_are_not_http_are_dropped_and_valid_items_are_kept(feed_server, link):
    body = json.dumps({"items": [*VALID, {"id": "bad", "url": link, "title": "RTX 4070 bad link", "price": "1.00", "image": link}]})
    source = _json_source(feed_server, body)
    report = scan.source_scan(source=source)
    assert report.ok, report.error
    urls = dict(DealListing.objects.values_list("external_id", "url"))
    assert urls["ok-1"] == "https://shop.test/1"
    assert urls["ok-2"].startswith("http://127.0.0.1:") and urls["ok-2"].endswith("/relative/2")
    assert urls.get("bad", "") == ""  # kept by its id, without the link
    assert not DealListing.objects.exclude(image_url="").exists()


def test_an_item_whose_only_identity_is_a_javascript_link_is_dropped():
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Free money $1</title><link>javascript:alert(1)</link></item>"
        "<item><title>RTX 4070 $499</title><link>https://shop.test/1</link></item></channel></rss>"
    )
    assert [i.url for i in feeds.parse_rss(rss, base_url="https://shop.test/")] == ["https://shop.test/1"]


def _html_pages(feed_server, count, next_of=None):
    for n in range(1, count + 1):
        target = next_of(n) if next_of else f"/list?page={n + 1}"
        feed_server.serve(
            "/list" if n == 1 else f"/list?page={n}",
            f'<ul><li class="result" data-id="p{n}"><a class="title" href="/item/{n}">RTX 4070 no. {n}</a>'
            f'<span class="price">${400 + n}.00</span></li></ul><a class="next" href="{target}">next</a>',
        )


def test_a_refused_next_link_keeps_what_page_one_gave(feed_server, user):
    # The next page points at a private address the fetch gate refuses (nothing is sent).
    _html_pages(feed_server, 1, next_of=lambda n: "http://10.0.0.1/list?page=2")
    source = DealSource.objects.create(name="html", kind="html", url=feed_server.url + "/list", item_pattern=HTML_PATTERN, max_pages=5)
    report = scan.source_scan(source=source)
    assert report.ok and report.pages == 1 and report.items == 1
    assert "page 2 not read" in report.partial
    source.refresh_from_db()
    assert source.last_status == "partial" and "10.0.0.1" in source.last_error
    assert list(DealListing.objects.values_list("external_id", flat=True)) == ["p1"]


def test_items_of_pages_not_read_this_time_are_not_taken_for_gone(feed_server):
    _html_pages(feed_server, 2, next_of=lambda n: f"/list?page={n + 1}" if n == 1 else "/list")
    source = DealSource.objects.create(name="html", kind="html", url=feed_server.url + "/list", item_pattern=HTML_PATTERN, max_pages=5)
    assert scan.source_scan(source=source).items == 2
    del feed_server.routes["/list?page=2"]  # page 2 now fails (404)
    report = scan.source_scan(source=source)
    assert report.ok and report.partial and report.items == 1
    reconcile.listings_reconcile()
    assert set(DealListing.objects.filter(status="active").values_list("external_id", flat=True)) == {"p1", "p2"}


def test_max_pages_is_capped_by_the_setting(feed_server, settings):
    settings.SCOUT_MAX_PAGES = 2
    _html_pages(feed_server, 6)
    source = DealSource.objects.create(name="html", kind="html", url=feed_server.url + "/list", item_pattern=HTML_PATTERN, max_pages=500)
    report = scan.source_scan(source=source)
    assert report.pages == 2 and not report.partial
    form = DealSourceForm(data={"name": "x", "kind": "feed", "url": "http://127.0.0.1:9/rss", "max_pages": 50, "poll_interval_minutes": 30, "item_pattern": "{}"})
    assert not form.is_valid() and "SCOUT_MAX_PAGES" in str(form.errors["max_pages"])


def test_a_parser_crash_is_recorded_on_the_source(feed_server, monkeypatch):
    source = _json_source(feed_server, json.dumps({"items": VALID}))

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(feeds, "parse_json", explode)
    report = scan.source_scan(source=source)
    assert not report.ok
    source.refresh_from_db()
    assert source.last_status == "error" and "RuntimeError: boom" in source.last_error

"""Pages that need JavaScript are rendered by Chromium, every request through the fetch gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tracker.misbehaving_server import Sentinel, Shop, page
from tracker import checking, services
from tracker.fetching import FetchError, rendering
from tracker.models import CheckLog, Store

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/chromium").is_file(), reason="/usr/bin/chromium is not installed: browser rendering not tested"
)

UA = "Mozilla/5.0 (compatible; PriceTracker/1.0; +https://pricetracker.test)"

SPA = """<!doctype html><html><head><title>Aurora espresso machine</title>
<script src="/app.js"></script></head>
<body><div id="root">Loading…</div><img src="http://10.0.0.1/pixel.png"></body></html>"""

APP_JS = """
fetch('/api/product').then(r => r.json()).then(d => {
  const ld = document.createElement('script');
  ld.type = 'application/ld+json';
  ld.textContent = JSON.stringify({"@context": "https://schema.org", "@type": "Product", "name": d.name,
    "offers": {"@type": "Offer", "price": d.price, "priceCurrency": "EUR", "availability": "https://schema.org/InStock"}});
  document.head.appendChild(ld);
  document.getElementById('root').innerHTML = '<h1>' + d.name + '</h1><p class="price">' + d.price +
    ' EUR</p><p>Brushed steel, 15 bar pump, two-year warranty, free delivery.</p>';
  fetch('http://127.0.0.3:SENTINEL/steal').catch(() => {});
  fetch('http://169.254.169.254/latest/meta-data/').catch(() => {});
});
"""


@pytest.fixture
def spa(settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.2"]
    settings.FETCH_USER_AGENT = UA
    settings.FETCH_DEADLINE = 20.0
    sentinel = Sentinel("127.0.0.3")
    shop = Shop("127.0.0.2")
    shop.routes["/p/espresso"] = page(SPA)
    shop.routes["/app.js"] = page(APP_JS.replace("SENTINEL", str(sentinel.port)), "application/javascript")
    shop.routes["/api/product"] = page('{"name": "Aurora espresso machine", "price": "349.00"}', "application/json")
    shop.routes["/to-sentinel"] = lambda h: page("", status=302, Location=f"http://127.0.0.3:{sentinel.port}/")(h)
    yield shop, sentinel
    shop.stop()
    sentinel.stop()
    rendering._pool.close()


def test_a_page_that_needs_javascript_is_rendered_and_only_the_gate_touches_the_network(spa):
    shop, sentinel = spa
    result = rendering.render_page(shop.url("/p/espresso"))
    assert "349.00 EUR" in result.text and "Loading" not in result.text
    assert sentinel.accepted == 0, "the page reached an address the gate refuses"
    assert {"/p/espresso", "/app.js", "/api/product"} <= set(shop.paths())
    assert all(headers.get("User-Agent") == UA for _, headers in shop.requests), "a request bypassed the gate"


@pytest.mark.django_db
def test_a_store_set_to_render_javascript_records_the_rendered_price(spa, user):
    shop, sentinel = spa
    listing = services.listing_add(owner=user, url=shop.url("/p/espresso"))
    Store.objects.filter(pk=listing.store_id).update(render_js=True, respect_robots=False)
    outcome = checking.listing_check(check_id=checking.check_create(listing=listing).pk)
    assert outcome.check.outcome == CheckLog.Outcome.OK, outcome.check.error
    assert str(outcome.price_point.price) == "349.00"
    assert sentinel.accepted == 0


def test_a_page_redirecting_to_a_refused_address_is_refused(spa):
    shop, sentinel = spa
    with pytest.raises(FetchError) as caught:
        rendering.render_page(shop.url("/to-sentinel"))
    assert caught.value.kind == "refused"
    assert sentinel.accepted == 0


def test_the_browser_is_recycled_after_its_page_budget(spa, settings):
    shop, _ = spa
    settings.RENDER_PAGES_PER_BROWSER = 1
    rendering._pool.close()
    launches = rendering._pool.launches
    for _ in range(2):
        rendering.render_page(shop.url("/p/espresso"))
    assert rendering._pool.launches == launches + 2

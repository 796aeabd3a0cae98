"""Deal source payloads as real sources publish them (shapes taken from common deal feeds)."""

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>Hot deals</title><link>http://deals.test/</link><description>Community deals</description>
  <item>
    <title>MSI GeForce RTX 4070 Ventus 2X 12G - $499.99</title>
    <link>http://deals.test/d/1001</link><guid isPermaLink="false">deal-1001</guid>
    <description>&lt;p&gt;Lowest price we have seen.&lt;/p&gt;</description>
    <pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate>
  </item>
  <item>
    <title>Sony WH1000XM5 headphones</title>
    <link>http://deals.test/d/1002</link><guid>deal-1002</guid>
    <g:price>279.00 USD</g:price><g:condition>used</g:condition>
    <media:content url="http://deals.test/img/1002.jpg" medium="image"/>
  </item>
  <item>
    <title>Lenovo Legion laptop RTX 4070 £1,299</title>
    <link>http://deals.test/d/1003</link><guid>deal-1003</guid>
  </item>
  <item>
    <title>MSI GeForce RTX 4070 Ventus 2X 12G - $499.99</title>
    <link>http://deals.test/d/1001</link><guid isPermaLink="false">deal-1001</guid>
  </item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Deal Atom</title><id>urn:deals</id><updated>2026-11-23T10:00:00Z</updated>
  <entry>
    <title>ASUS Dual RTX 4070 OC 549,00 €</title>
    <link href="/deal/a1"/><id>urn:deal:a1</id><updated>2026-11-23T10:00:00Z</updated>
    <summary>Great card</summary>
  </entry>
  <entry>
    <title>Keyboard without a price</title>
    <link href="/deal/a2"/><id>urn:deal:a2</id><updated>2026-11-23T10:00:00Z</updated>
  </entry>
</feed>"""

JSON_FEED = """{"version": "https://jsonfeed.org/version/1.1", "title": "Deals",
 "items": [
  {"id": "j1", "url": "http://deals.test/j/1", "title": "Gigabyte RTX 4070 Eagle", "price": {"amount": "519.00", "currency": "USD"}, "condition": "new", "seller": {"name": "ShopA"}},
  {"id": "j2", "url": "http://deals.test/j/2", "title": "RTX 4070 Founders Edition", "price": 489, "currency": "USD"},
  {"id": "j3", "url": "http://deals.test/j/3", "title": "RTX 4070 fan shroud (accessory)", "price": "$12.99"}
 ]}"""

HTML_PAGE_1 = """<html><body>
<ul class="results">
  <li class="result" data-id="h1"><a class="title" href="/item/h1">RTX 4070 Super — boxed</a><span class="price">$579.00</span><span class="cond">New</span><span class="seller">alice</span></li>
  <li class="result" data-id="h2"><a class="title" href="/item/h2">RTX 4070 used, 6 months</a><span class="price">$420</span><span class="cond">Used</span><span class="seller">bob</span></li>
</ul>
<a class="next" href="/list?page=2">Next</a>
</body></html>"""

HTML_PAGE_2 = """<html><body>
<ul class="results">
  <li class="result" data-id="h3"><a class="title" href="/item/h3">RTX 4070 Ti boxed</a><span class="price">$699.00</span><span class="cond">New</span></li>
</ul>
<a class="next" href="/list?page=1">Back to start</a>
</body></html>"""

HTML_PATTERN = {
    "item": "li.result",
    "title": "a.title",
    "url": "a.title",
    "price": ".price",
    "condition": ".cond",
    "seller": ".seller",
    "id": "li.result",
    "id_attribute": "data-id",
    "next": "a.next",
}

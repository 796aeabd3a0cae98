"""Challenge, captcha and access-denied pages are recognised; ordinary shop pages are not."""

from __future__ import annotations

import pytest

from tests.tracker.misbehaving_server import product_html
from tracker.fetching.blocking import block_reason, visible_text

CHALLENGES = {
    "cloudflare": (
        503,
        {"Server": "cloudflare"},
        "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
        "<script>window._cf_chl_opt={cvId: '3'};</script>"
        "<script src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1'></script></body></html>",
    ),
    "cloudflare-attention": (
        403,
        {},
        "<html><head><title>Attention Required! | Cloudflare</title></head><body>"
        "<div id='cf-error-details'>Sorry, you have been blocked</div></body></html>",
    ),
    "perimeterx": (
        403,
        {},
        "<html><head><title>Access to this page has been denied</title></head><body>"
        "<div id='px-captcha'></div><script>window._pxAppId='PXabc';</script>Press &amp; Hold</body></html>",
    ),
    "datadome": (
        403,
        {"x-datadome": "protected"},
        "<html><body><script src='https://ct.captcha-delivery.com/c.js'></script></body></html>",
    ),
    "datadome-marker-only": (
        200,
        {},
        "<html><body><iframe src='https://geo.captcha-delivery.com/captcha/?initialCid=x'></iframe></body></html>",
    ),
    "akamai": (
        403,
        {"Server": "AkamaiGHost"},
        "<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY><H1>Access Denied</H1>"
        "You don't have permission to access \"http://www.shop.test/p\" on this server.<P>"
        "Reference #18.2d351ab8.1557333295.a4e16ab<P>https://errors.edgesuite.net/18.2d351ab8</BODY></HTML>",
    ),
    "incapsula": (
        200,
        {},
        "<html><head><META NAME='robots' CONTENT='noindex,nofollow'>"
        "<script src='/_Incapsula_Resource?SWJIYLWA=5074a7'></script></head><body>"
        "<iframe>Request unsuccessful. Incapsula incident ID: 123</iframe></body></html>",
    ),
    "hcaptcha-interstitial": (
        200,
        {},
        "<html><head><title>Security check</title><script src='https://hcaptcha.com/1/api.js'></script></head>"
        "<body><p>Please complete the security check to continue.</p><div class=\"h-captcha\"></div></body></html>",
    ),
    "recaptcha-interstitial": (
        429,
        {},
        "<html><head><title>Are you a robot?</title><script src='https://www.google.com/recaptcha/api.js'>"
        "</script></head><body><form><div class=\"g-recaptcha\"></div></form>"
        "Our systems have detected unusual traffic from your computer network.</body></html>",
    ),
    "cf-mitigated-header": (200, {"cf-mitigated": "challenge"}, product_html("A page behind a challenge")),
    "amazon": (
        200,
        {},
        "<html><body><h4>Type the characters you see in this image:</h4>"
        "To discuss automated access to Amazon data please contact api-services-support@amazon.com.</body></html>",
    ),
    "empty-shell": (200, {}, "<html><head><title>Shop</title></head><body><div class='x'></div></body></html>"),
}

# Issue 17, item 6 changed this on purpose: a script shell is read (no price) and tried once in
# the browser, instead of being called a block page.
SCRIPT_SHELL = "<html><head><script src='/bundle.js'></script></head><body><div id='app'></div></body></html>"


def test_a_script_shell_is_not_a_block_page():
    assert block_reason(status=200, headers={}, text=SCRIPT_SHELL) is None


@pytest.mark.parametrize("name", CHALLENGES)
def test_challenge_and_block_pages_are_recognised(name):
    status, headers, text = CHALLENGES[name]
    assert block_reason(status=status, headers=headers, text=text)


def test_the_reason_names_the_vendor():
    status, headers, text = CHALLENGES["perimeterx"]
    assert "PerimeterX" in block_reason(status=status, headers=headers, text=text)


ORDINARY = {
    "product": product_html("Aurora espresso machine"),
    "product-with-review-recaptcha": product_html(
        "Kettle with a review form",
        extra="<script src='https://www.google.com/recaptcha/api.js'></script>",
    ).replace(
        "</body>",
        "<h2>Reviews</h2>" + "<p>Great kettle, boils fast and looks good on the counter.</p>" * 40
        + "<form><div class=\"g-recaptcha\"></div></form></body>",
    ),
    "product-mentioning-access": product_html("Access Denied (board game, 2nd edition)")
    + "<p>" + "A game of bluffing for 3-6 players. " * 50 + "</p>",
    # Cloudflare's JavaScript Detections (always on with Bot Fight Mode) put a script from
    # /cdn-cgi/challenge-platform/ on every ordinary page.
    "product-behind-cloudflare-js-detections": product_html(
        "Kettle sold behind Cloudflare",
        extra="<script>(function(){var a=document.createElement('script');"
        "a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js';document.head.appendChild(a)})();</script>"
        "<script defer src='/cdn-cgi/challenge-platform/h/b/scripts/jsd/5f7d1b2c/main.js'></script>",
    ),
    "tiny-page-with-json-ld": '<html><head><script type="application/ld+json">{"@type":"Product",'
    '"offers":{"price":"9.99","priceCurrency":"EUR"}}</script></head><body></body></html>',
}


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_shop_pages_are_not_flagged(name):
    assert block_reason(status=200, headers={"Server": "cloudflare"}, text=ORDINARY[name]) is None


def test_visible_text_ignores_scripts_and_styles():
    html = "<html><style>p{color:red}</style><script>var x = 'hidden';</script><p>Shown  text</p></html>"
    assert visible_text(html) == "Shown text"

"""Adding from the browser: /add?url=…, a phone's share target, the manifest, icons, bookmarklet."""

from __future__ import annotations

import struct
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from tracker.views_add import shared_url

pytestmark = pytest.mark.django_db

STATIC = Path(django_settings.BASE_DIR) / "static"


@pytest.fixture
def logged_in(client, user, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client.force_login(user)
    return client


def _url_field(page: str) -> str:
    tag = page.split('id="id_url"', 1)[0].rsplit("<input", 1)[1] + page.split('id="id_url"', 1)[1].split(">", 1)[0]
    return tag


def test_add_with_a_url_opens_the_form_filled_in(logged_in):
    page = logged_in.get(reverse("tracker:add") + "?url=" + quote("http://127.0.0.1:8001/p/kettle?c=1&d=2")).content.decode()
    assert 'value="http://127.0.0.1:8001/p/kettle?c=1&amp;d=2"' in _url_field(page)
    assert 'action="/add"' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"text": "Look at this kettle http://127.0.0.1:8001/p/kettle, cheap!"}, "http://127.0.0.1:8001/p/kettle"),
        ({"title": "Kettle", "text": "https://127.0.0.1/p/k"}, "https://127.0.0.1/p/k"),
        ({"url": "http://127.0.0.1/a", "text": "http://127.0.0.1/b"}, "http://127.0.0.1/a"),
        ({"text": "no address here"}, ""),
    ],
    ids=["url-in-text", "only-text", "url-wins", "nothing"],
)
def test_a_share_finds_the_address_wherever_the_phone_put_it(query, expected):
    assert shared_url(url=query.get("url", ""), text=query.get("text", "")) == expected


def test_a_share_opens_the_filled_form_after_logging_in(client, user):
    target = reverse("tracker:add") + "?text=" + quote("see http://127.0.0.1:8001/p/kettle")
    response = client.get(target)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert quote(target, safe="") in response["Location"] or quote(target) in response["Location"]  # comes back after login


def test_the_manifest_makes_the_app_a_share_target_with_icons(client):
    response = client.get(reverse("tracker:manifest"))
    assert response.status_code == 200 and response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["share_target"] == {
        "action": "/add", "method": "GET", "params": {"url": "url", "text": "text", "title": "title"}
    }
    sizes = {}
    for icon in manifest["icons"]:
        file = STATIC / icon["src"].removeprefix("/static/")
        assert file.exists(), icon["src"]
        if icon["type"] == "image/png":
            width, height = struct.unpack(">II", file.read_bytes()[16:24])  # the PNG header's IHDR
            sizes[icon["sizes"]] = f"{width}x{height}"
    assert sizes["192x192"] == "192x192" and sizes["512x512"] == "512x512"
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])


def test_every_page_links_the_manifest_and_icons_and_favicon_ico_answers(client, logged_in):
    page = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert f'rel="manifest" href="{reverse("tracker:manifest")}"' in page
    assert "icon-192.png" in page and "apple-touch-icon.png" in page
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    ico = (STATIC / response["Location"].removeprefix("/static/")).read_bytes()
    assert ico[:4] == b"\x00\x00\x01\x00"  # an ICO directory


def test_the_settings_page_offers_a_bookmarklet_that_opens_the_add_form(logged_in):
    page = logged_in.get(reverse("accounts:settings")).content.decode()
    assert ">Settings<" in page  # in the nav
    href = page.split('class="button bookmarklet" href="', 1)[1].split('"', 1)[0]
    assert href.startswith("javascript:")
    assert "http://testserver/add?url=" in href.replace("&#x27;", "'") and "encodeURIComponent(location.href)" in href

"""A person helps: sees what each layer reads, picks or types a selector, tests it, saves it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.tracker.shop_pages import shop_page
from tracker.models import ExtractionPattern, Listing, ListingPage, Product, Store

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(user):
    store = Store.objects.create(domain="shop.test")
    product = Product.objects.create(owner=user, name="Alder Desk Chair")
    listings = []
    for i in range(2):
        item = Listing.objects.create(product=product, store=store, url=f"https://shop.test/p/{i}")
        ListingPage.objects.create(listing=item, url=item.url, html=shop_page(i, theme="v2"))
        listings.append(item)
    return listings[0]


def url(listing):
    return reverse("tracker:listing_extraction", args=[listing.pk])


def test_the_page_shows_each_layer_and_the_candidate_prices(client, user, listing):
    client.force_login(user)
    response = client.get(url(listing))
    assert response.status_code == 200
    body = response.content.decode()
    assert "structured data" in body and "heuristics" in body and "store pattern" in body
    assert "149.00" in body and "pdp__amount" in body  # the candidate with its selector


def test_a_typed_selector_is_tested_on_every_page_of_the_store(client, user, listing):
    client.force_login(user)
    response = client.post(url(listing), {"selector": ".pdp__amount", "kind": "css", "action": "test"})
    body = response.content.decode()
    assert "https://shop.test/p/0" in body and "https://shop.test/p/1" in body
    assert "149.00" in body and "89.50" in body
    assert not ExtractionPattern.objects.exists()


def test_a_selector_that_validates_is_saved_for_the_persons_own_listings(client, user, listing):
    """Issue 14 changed this on purpose: a person's selector is his, not the store's."""
    client.force_login(user)
    response = client.post(url(listing), {"selector": ".pdp__pricing .pdp__amount", "kind": "css", "action": "save"})
    assert response.status_code == 302
    pattern = ExtractionPattern.objects.get(status="active")
    assert pattern.source == "person" and pattern.spec["price"]["selector"] == ".pdp__pricing .pdp__amount"
    assert pattern.owner == user


# --- Shared stores: one person's pages and patterns stay his ---------------------------------


@pytest.fixture
def bobs_listing(other_user, listing):
    product = Product.objects.create(owner=other_user, name="Bob's lamp")
    item = Listing.objects.create(product=product, store=listing.store, url="https://shop.test/bob-secret-wishlist")
    ListingPage.objects.create(listing=item, url=item.url, html=shop_page(2, theme="v2", price="777.13"))
    return item


def test_testing_a_selector_shows_none_of_another_users_urls_or_pages(client, user, listing, bobs_listing):
    client.force_login(user)
    for response in (
        client.post(url(listing), {"selector": ".pdp__amount", "kind": "css", "action": "test"}),
        client.get(url(listing), {"pick": ".pdp__amount"}),
        client.post(url(listing), {"selector": ".pdp__amount", "kind": "css", "action": "save"}),
    ):
        body = response.content.decode()
        assert "https://shop.test/p/0" in body or response.status_code == 302
        assert "bob-secret-wishlist" not in body
        assert "777.13" not in body  # what the selector reads on Bob's stored page


def test_a_users_saved_selector_applies_to_his_listings_only(client, user, listing, bobs_listing):
    from tracker.learning import reads

    client.force_login(user)
    client.post(url(listing), {"selector": ".pdp__pricing .pdp__amount", "kind": "css", "action": "save"})
    store = listing.store_id
    assert reads.store_active_pattern_for_check(store_id=store, owner_id=user.pk).owner_id == user.pk
    assert reads.store_active_pattern_for_check(store_id=store, owner_id=bobs_listing.product.owner_id) is None
    assert reads.store_active_pattern(store_id=store) is None


def test_a_person_cannot_save_for_the_store_or_promote(client, user, listing):
    client.force_login(user)
    client.post(url(listing), {"selector": ".pdp__pricing .pdp__amount", "kind": "css", "action": "save_store"})
    client.post(url(listing), {"action": "promote"})
    assert not ExtractionPattern.objects.filter(owner__isnull=True).exists()


def test_staff_promote_a_persons_pattern_to_the_store(client, user, listing, django_user_model):
    from tracker.learning import reads

    client.force_login(user)
    client.post(url(listing), {"selector": ".pdp__pricing .pdp__amount", "kind": "css", "action": "save"})
    staff = django_user_model.objects.create_user(username="sam", password="pw-sam-123", is_staff=True)
    client.force_login(staff)
    assert "Promote it to the store" in client.get(url(listing)).content.decode()
    assert client.post(url(listing), {"action": "promote"}).status_code == 302
    store_pattern = reads.store_active_pattern(store_id=listing.store_id)
    assert store_pattern is not None and store_pattern.owner_id is None
    assert store_pattern.spec["price"]["selector"] == ".pdp__pricing .pdp__amount"
    # The person keeps reading his own version first; everyone else now reads the store's.
    assert reads.store_active_pattern_for_check(store_id=listing.store_id, owner_id=user.pk).owner_id == user.pk
    assert reads.store_active_pattern_for_check(store_id=listing.store_id, owner_id=None).pk == store_pattern.pk


def test_the_was_price_is_refused_with_the_reason(client, user, listing):
    client.force_login(user)
    response = client.post(url(listing), {"selector": ".pdp__strike", "kind": "css", "action": "save"})
    assert response.status_code == 200
    assert "was" in response.content.decode() and not ExtractionPattern.objects.exists()


def test_an_unsafe_xpath_is_refused(client, user, listing):
    client.force_login(user)
    response = client.post(url(listing), {"selector": "document('http://x.test/')", "kind": "xpath", "action": "save"})
    assert "not allowed" in response.content.decode() and not ExtractionPattern.objects.exists()


def test_someone_else_cannot_see_or_change_the_listing(client, other_user, listing):
    client.force_login(other_user)
    assert client.get(url(listing)).status_code == 404
    assert client.post(url(listing), {"selector": ".pdp__amount", "kind": "css", "action": "save"}).status_code == 404
    assert not ExtractionPattern.objects.exists()


def test_the_preview_runs_no_scripts(client, user, listing):
    client.force_login(user)
    response = client.get(reverse("tracker:listing_page_preview", args=[listing.pk]))
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"<script" not in response.content and b"149.00" in response.content


def test_the_product_page_links_to_the_help_page(client, user, listing):
    Listing.objects.filter(pk=listing.pk).update(status="broken")
    Store.objects.filter(pk=listing.store_id).update(extraction_status="broken")
    client.force_login(user)
    body = client.get(reverse("tracker:product", args=[listing.product_id])).content.decode()
    assert "Extraction broken" in body and url(listing) in body and "Help find the price" in body


def test_clicking_a_price_on_the_rendered_page_tests_it_on_the_store_pages(client, user, listing):
    import re
    from html import unescape

    client.force_login(user)
    preview = client.get(reverse("tracker:listing_page_preview", args=[listing.pk])).content.decode()
    assert "/p/1" not in preview  # the shop's own links are gone: a click can only pick a price
    links = {unescape(m) for m in re.findall(r'href="([^"]*pick=[^"]*)"', preview)}
    current = [link for link in links if "pdp__amount" in link]
    assert len(current) == 1 and len(links) >= 3  # every price on the page can be picked
    response = client.get(current[0])
    body = response.content.decode()
    assert "149.00" in body and "89.50" in body and "Test results" in body
    assert not ExtractionPattern.objects.exists()  # picking tests; saving is a separate step


def test_the_admin_shows_what_each_layer_extracts_and_the_patterns(admin_client, listing):
    page = ListingPage.objects.get(listing=listing)
    body = admin_client.get(reverse("admin:tracker_listingpage_change", args=[page.pk])).content.decode()
    assert "What each layer extracts" in body and "heuristics" in body and "149.00" in body
    assert admin_client.get(reverse("admin:tracker_extractionpattern_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:tracker_llmcall_changelist")).status_code == 200

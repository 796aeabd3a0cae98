"""Login, and isolation between people: nobody sees another person's products."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tracker.models import CheckLog, Priority, Product

from .listings import make_listing

pytestmark = pytest.mark.django_db


# --- Login and isolation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("tracker:dashboard", []),
        ("tracker:product", [1]),
        ("tracker:listing_status", [1]),
        ("tracker:product_delete", [1]),
        ("tracker:listing_delete", [1]),
    ],
)
def test_every_page_sends_anonymous_visitors_to_the_login_page(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_post_adds_nothing(client):
    client.post(reverse("tracker:dashboard"), {"url": "http://shop.test/x", "priority": "normal"})
    assert Product.objects.count() == 0


def test_the_login_page_logs_a_person_in(client, user):
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b'name="password"' in page.content
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice-123"})
    assert response.status_code == 302
    assert client.get(reverse("tracker:dashboard")).status_code == 200


def test_a_person_sees_only_their_own_products(logged_in, user, other_user):
    make_listing(user, name="Alice's kettle", url="http://shop.test/a")
    make_listing(other_user, name="Bob's bike", url="http://shop.test/b")
    page = logged_in.get(reverse("tracker:dashboard")).content.decode()
    assert "Alice&#x27;s kettle" in page
    assert "Bob" not in page


def test_someone_elses_product_and_listing_are_not_found(logged_in, other_user):
    theirs = make_listing(other_user, url="http://shop.test/b", prices=["10"])
    product = theirs.product
    for method, name, obj in [
        ("get", "tracker:product", product),
        ("post", "tracker:product_rename", product),
        ("post", "tracker:product_pause", product),
        ("get", "tracker:product_delete", product),
        ("post", "tracker:product_delete", product),
        ("post", "tracker:product_add_listing", product),
        ("get", "tracker:listing_status", theirs),
        ("post", "tracker:listing_priority", theirs),
        ("post", "tracker:listing_pause", theirs),
        ("post", "tracker:listing_check_now", theirs),
        ("post", "tracker:listing_delete", theirs),
    ]:
        response = getattr(logged_in, method)(
            reverse(name, args=[obj.pk]), {"name": "mine now", "paused": "1", "priority": "high",
                                            "url": "http://shop.test/c"}
        )
        assert response.status_code == 404, name
    theirs.refresh_from_db()
    assert Product.objects.filter(pk=product.pk, name="Kettle").exists()
    assert (theirs.paused, theirs.priority) == (False, Priority.NORMAL)
    assert theirs.checks.filter(outcome=CheckLog.Outcome.QUEUED).count() == 0
    assert product.listings.count() == 1

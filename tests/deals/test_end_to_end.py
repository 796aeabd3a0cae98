"""From a real price check of a local shop page to the webhook: the whole path, in-process."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deals.models import AlertEvent, AlertRule, Notification
from deals.notifications.channels import channel_add
from tests.integration.shop import TinyShop
from tracker import services
from tracker.tasks import check_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    shop = TinyShop()
    yield shop
    shop.server.shutdown()
    shop.server.server_close()


def check(listing, capture):
    with capture(execute=True):
        check_now(listing=listing)


def test_a_checked_price_below_target_reaches_the_webhook_once(
    user, shop, http_receiver, eager_celery, django_capture_on_commit_callbacks
):
    shop.prices["grinder"] = Decimal("79.00")
    listing = services.listing_add(owner=user, url=f"{shop.url}/p/grinder")
    AlertRule.objects.create(product=listing.product, kind="target", threshold=Decimal("80"))
    channel_add(owner=user, name="hook", url=f"json://127.0.0.1:{http_receiver.port}/in")

    check(listing, django_capture_on_commit_callbacks)  # first check, already below: alert
    [request] = http_receiver.wait_for(1)
    assert "€79.00" in request["json"]["title"]
    check(listing, django_capture_on_commit_callbacks)  # still below: quiet
    shop.prices["grinder"] = Decimal("95.00")
    check(listing, django_capture_on_commit_callbacks)  # back above: re-armed
    shop.prices["grinder"] = Decimal("78.50")
    check(listing, django_capture_on_commit_callbacks)  # below again: second alert

    assert [r["json"]["title"].split(": ")[1].split(" at ")[0] for r in http_receiver.wait_for(2)] == [
        "€79.00", "€78.50"
    ]
    assert AlertEvent.objects.count() == 2
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}

"""The migrations to change-only history and compressed sample pages convert what is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db(transaction=True)
def test_migrating_merges_runs_of_one_price_and_keeps_every_change_and_confirmation(django_user_model):
    before = [("tracker", "0003_listingpage_html_hash")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    user = django_user_model.objects.create(username="old")
    Store, Product = apps.get_model("tracker", "Store"), apps.get_model("tracker", "Product")
    Listing, PricePoint = apps.get_model("tracker", "Listing"), apps.get_model("tracker", "PricePoint")
    listing = Listing.objects.create(
        product=Product.objects.create(owner_id=user.pk, name="Kettle"),
        store=Store.objects.create(domain="shop.test"), url="http://shop.test/k",
    )
    ListingPage = apps.get_model("tracker", "ListingPage")
    ListingPage.objects.create(listing=listing, url=listing.url, html="<p>Żółw 10,00 €</p>" * 50, html_hash="x")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    values = ["10", "10", "10", "12", "10", "10"]
    for i, value in enumerate(values):
        PricePoint.objects.create(listing=listing, price=Decimal(value), currency="EUR", in_stock=True,
                                  checked_at=start + timedelta(hours=i), method="json-ld")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from tracker.models import Listing as LiveListing
    from tracker.models import PricePoint as LivePricePoint

    points = list(
        LivePricePoint.objects.order_by("checked_at")
        .values_list("id", "price", "confirmations", "checked_at", "last_confirmed_at")
    )
    assert [row[1:] for row in points] == [
        (Decimal("10"), 3, start, start + timedelta(hours=2)),
        (Decimal("12"), 1, start + timedelta(hours=3), None),
        (Decimal("10"), 2, start + timedelta(hours=4), start + timedelta(hours=5)),
    ]
    # The next check of the same price extends the newest point.
    assert LiveListing.objects.get().last_point_id == points[-1][0]
    # Stored pages are compressed and read back whole.
    from tracker.models import ListingPage as LivePage

    page = LivePage.objects.get()
    assert page.html == "<p>Żółw 10,00 €</p>" * 50 and len(page.html_z) < 100

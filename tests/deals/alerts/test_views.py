"""The alerts UI: rules, the deals feed, quiet hours, deal quality on pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from deals.alerts.evaluation import price_point_evaluate
from deals.models import AlertRule

from ..conftest import later, listing_for, record_price

pytestmark = pytest.mark.django_db

def test_rules_page_adds_a_rule_and_shows_deal_quality(client_in, product):
    listing_for(product)
    url = reverse("deals:rules", args=[product.pk])
    page = client_in.get(url)
    assert page.status_code == 200 and b"Not enough history yet" in page.content
    response = client_in.post(url, {"kind": "target", "threshold": "99.50", "window_days": "30"})
    assert response.status_code == 302
    rule = AlertRule.objects.get(product=product)
    assert rule.threshold == Decimal("99.50") and rule.store is None and rule.armed
    assert b"Price at or below a target" in client_in.get(url).content


def test_a_target_rule_without_a_number_is_refused(client_in, product):
    response = client_in.post(reverse("deals:rules", args=[product.pk]), {"kind": "target", "window_days": "30"})
    assert response.status_code == 200 and b"needs a number" in response.content
    assert not AlertRule.objects.exists()


def test_someone_elses_product_rules_are_not_found(client, other_user, product):
    client.force_login(other_user)
    assert client.get(reverse("deals:rules", args=[product.pk])).status_code == 404


def test_feed_lists_recent_deals_across_products(client_in, product):
    listing = listing_for(product)
    AlertRule.objects.create(product=product, kind="target", threshold=Decimal("100"))
    price_point_evaluate(price_point_id=record_price(listing, 89, later()).pk)
    page = client_in.get(reverse("deals:index"))
    assert b"Espresso machine" in page.content and "€89.00".encode() in page.content


def test_the_product_panel_and_dashboard_show_deal_quality(client_in, product):
    listing_for(product)
    page = client_in.get(product.get_absolute_url())
    assert page.status_code == 200
    assert b"Deal quality and alerts" in page.content and b"Not enough history yet" in page.content


def test_quiet_hours_are_saved_with_a_valid_time_zone(client_in, user):
    url = reverse("deals:settings")
    bad = client_in.post(url, {"quiet_start": "22:00", "quiet_end": "07:00", "timezone": "Mars/Olympus"})
    assert b"Unknown time zone" in bad.content
    client_in.post(url, {"quiet_start": "22:00", "quiet_end": "07:00", "timezone": "Europe/Berlin"})
    assert user.notification_settings.timezone == "Europe/Berlin"


def test_the_dashboard_row_shows_deal_quality(client_in, product):
    listing = listing_for(product)
    for day in range(8):
        record_price(listing, 120 - day, later(days=day))
    page = client_in.get(reverse("tracker:dashboard"))
    assert page.status_code == 200
    assert b"deal-quality" in page.content and b"Lowest in" in page.content

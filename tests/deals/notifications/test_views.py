"""The notifications UI: channels and the outbox; channel secrets never leave the server."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.urls import reverse

from deals.alerts.evaluation import price_point_evaluate
from deals.models import AlertRule, Channel, Notification

from ..conftest import later, listing_for, record_price

pytestmark = pytest.mark.django_db

SECRET = "Sup3rS3cretT0ken"
USER = "hookuser9"


def test_a_channel_secret_never_appears_in_pages_admin_or_logs(
    client, admin_user, user, product, http_receiver, caplog
):
    """Add a channel, test it (failing, with the server's error), deliver through it, look at
    every page that shows channels or notifications, and at every log line: no secret."""
    caplog.set_level(logging.DEBUG)
    client.force_login(user)
    secret_url = f"json://{USER}:{SECRET}@127.0.0.1:{http_receiver.port}/in?token={SECRET}X"
    seen: list[str] = []

    response = client.post(
        reverse("deals:channels"), {"name": "hook", "kind": "apprise", "url": secret_url, "mode": "immediate", "enabled": "on"}
    )
    assert response.status_code == 302
    channel = Channel.objects.get()
    assert SECRET not in channel.url_encrypted and SECRET not in channel.url_masked

    http_receiver.statuses = [500]
    response = client.post(reverse("deals:channel_test", args=[channel.pk]), follow=True)
    assert b"error=500" in response.content  # the channel's own error is shown...
    seen.append(response.content.decode())

    listing = listing_for(product)
    AlertRule.objects.create(product=product, kind="target", threshold=Decimal("100"))
    price_point_evaluate(price_point_id=record_price(listing, 89, later()).pk)
    from deals.notifications import delivery

    http_receiver.statuses = [400]
    delivery.notification_deliver(notification_id=Notification.objects.get().pk)
    assert http_receiver.wait_for(2)[-1]["headers"]["Authorization"]  # it really went out with the secret

    for name, args in [
        ("deals:channels", []), ("deals:channel_edit", [channel.pk]), ("deals:notifications", []),
        ("deals:index", []), ("deals:settings", []),
    ]:
        page = client.get(reverse(name, args=args))
        assert page.status_code == 200
        seen.append(page.content.decode())
    client.force_login(admin_user)
    for url in [
        reverse("admin:deals_channel_changelist"), reverse("admin:deals_channel_change", args=[channel.pk]),
        reverse("admin:deals_notification_changelist"),
        reverse("admin:deals_notification_change", args=[Notification.objects.get().pk]),
    ]:
        page = client.get(url)
        assert page.status_code == 200, url
        seen.append(page.content.decode())
    # Everything else a person or a monitor can fetch, HTML and JSON alike.
    from django.urls import NoReverseMatch

    listing_status = ("tracker:listing_status", [listing.pk])
    for name, args in [
        ("tracker:dashboard", []), ("tracker:product", [product.pk]), listing_status,
        ("health", []), ("health_detailed", []), ("prometheus", []), ("api", []),
    ]:
        try:
            url = reverse(name, args=args)
        except NoReverseMatch:
            continue
        seen.append(client.get(url).content.decode(errors="replace"))
    seen += [record.getMessage() for record in caplog.records]
    seen += [str(getattr(record, "error", "")) for record in caplog.records]
    assert any("error=400" in text for text in seen)
    for text in seen:
        assert SECRET not in text
        assert USER not in text


def test_editing_a_channel_without_a_url_keeps_the_old_one(client_in, user, http_receiver):
    from deals.notifications.channels import channel_add
    from deals.notifications.crypto import secret_decrypt

    url = f"json://127.0.0.1:{http_receiver.port}/a?token={SECRET}"
    channel = channel_add(owner=user, name="hook", url=url)
    response = client_in.post(
        reverse("deals:channel_edit", args=[channel.pk]),
        {"name": "renamed", "kind": "apprise", "url": "", "mode": "digest", "enabled": "on"},
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "renamed" and channel.mode == "digest"
    assert secret_decrypt(channel.url_encrypted) == url


def test_a_bad_channel_url_is_explained(client_in):
    response = client_in.post(
        reverse("deals:channels"), {"name": "x", "kind": "apprise", "url": "nonsense://abc", "mode": "immediate"}
    )
    assert response.status_code == 200 and b"Apprise does not understand" in response.content
    assert not Channel.objects.exists()


def test_the_retry_button_requeues_a_failed_notification(client_in, user, product, http_receiver, eager_celery,
                                                         django_capture_on_commit_callbacks):
    from deals.notifications import delivery
    from deals.notifications.channels import channel_add

    channel_add(owner=user, name="hook", url=f"json://127.0.0.1:{http_receiver.port}/a")
    listing = listing_for(product)
    AlertRule.objects.create(product=product, kind="target", threshold=Decimal("100"))
    price_point_evaluate(price_point_id=record_price(listing, 89, later()).pk)
    notification = Notification.objects.get()
    http_receiver.statuses = [400]
    delivery.notification_deliver(notification_id=notification.pk)
    page = client_in.get(reverse("deals:notifications") + "?status=failed")
    assert b"Retry" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client_in.post(reverse("deals:notification_retry", args=[notification.pk]))
    notification.refresh_from_db()
    assert notification.status == "sent"
    assert [r["status"] for r in http_receiver.wait_for(2)] == [400, 200]

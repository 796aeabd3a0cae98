"""Where notifications go (channels), the outbox rows, and a person's quiet hours."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Channel(models.Model):
    """Where a person's notifications go. The Apprise URL is stored encrypted."""

    class Kind(models.TextChoices):
        APPRISE = "apprise", "Apprise URL (ntfy, Telegram, Discord, Slack, webhooks, mailto, …)"
        EMAIL = "email", "E-mail through this server's mail settings"

    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", "At once"
        DIGEST = "digest", "Hourly digest"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.APPRISE)
    url_encrypted = models.TextField(blank=True, help_text="Fernet token; never shown.")
    url_masked = models.CharField(max_length=300, blank=True)
    email_to = models.EmailField(blank=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IMMEDIATE)
    enabled = models.BooleanField(default=True)
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True)
    last_test_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["owner", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_target})"

    @property
    def display_target(self) -> str:
        return self.email_to if self.kind == self.Kind.EMAIL else self.url_masked


class OutboxRow(models.Model):
    """One message to one channel, waiting in the outbox: alerts (`Notification`) and deals
    (`DealNotification`) share these fields and one delivery module (deals/notifications/delivery.py).

    A sender claims a row with a conditional UPDATE (pending -> sending, fresh `claim_token`,
    `claimed_at`), records `send_started_at` just before handing the message to the channel,
    and only the claimer sends. Stale rows are judged by `claimed_at`, never by `created_at`.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    digest = models.BooleanField(default=False, help_text="Sent with the channel's hourly digest.")
    deliver_after = models.DateTimeField(default=timezone.now, help_text="Held back until then (quiet hours).")
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claim_token = models.CharField(max_length=36, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-created_at"]


class Notification(OutboxRow):
    """An alert event told to one channel."""

    event = models.ForeignKey("deals.AlertEvent", on_delete=models.CASCADE, related_name="notifications")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="notifications")

    class Meta(OutboxRow.Meta):
        constraints = [
            models.UniqueConstraint(fields=["event", "channel"], name="notification_once_per_event_and_channel")
        ]
        indexes = [models.Index(fields=["status", "digest", "deliver_after"])]

    def __str__(self) -> str:
        return f"notification {self.pk} ({self.status}) to {self.channel_id}"


class DealNotification(OutboxRow):
    """A matched deal told to one channel, through the same channels, message format, digest
    and quiet hours as price alerts."""

    match = models.ForeignKey("deals.DealMatch", on_delete=models.CASCADE, related_name="notifications")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deal_notifications")
    # The item told about: one message per item and channel, however many watches it matched.
    listing = models.ForeignKey(
        "deals.DealListing", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )

    class Meta(OutboxRow.Meta):
        constraints = [
            models.UniqueConstraint(fields=["match", "channel"], name="deal_notification_once_per_channel"),
            models.UniqueConstraint(fields=["listing", "channel"], name="deal_notification_once_per_item"),
        ]
        indexes = [models.Index(fields=["status", "digest", "deliver_after"])]

    def __str__(self) -> str:
        return f"deal notification {self.pk} ({self.status})"


class NotificationSettings(models.Model):
    """A person's quiet hours: notifications wait until they end (times in the person's zone)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")

    def __str__(self) -> str:
        return f"notification settings of {self.user}"

"""Alert rules and the events they fire."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AlertRule(models.Model):
    """A condition on a product's prices, edge-triggered: it fires when the condition becomes
    true (also on the very first check) and re-arms when it becomes false again."""

    class Kind(models.TextChoices):
        TARGET = "target", "Price at or below a target"
        DROP_PERCENT = "drop_percent", "Drop of at least X % since the previous price"
        DROP_AMOUNT = "drop_amount", "Drop of at least an amount since the previous price"
        BELOW_TYPICAL = "below_typical", "Below the typical (median) price"
        ALL_TIME_LOW = "all_time_low", "New all-time low"
        BACK_IN_STOCK = "back_in_stock", "Back in stock"
        RISE_PERCENT = "rise_percent", "Rise of at least X % since the previous price"

    product = models.ForeignKey("tracker.Product", on_delete=models.CASCADE, related_name="alert_rules")
    store = models.ForeignKey(
        "tracker.Store",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_rules",
        help_text="Empty: any of the product's stores.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    threshold = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Target price, percent or amount, depending on the kind.",
    )
    window_days = models.PositiveSmallIntegerField(
        default=30, help_text="For 'below the typical price': the median of this many days (30 or 90)."
    )
    enabled = models.BooleanField(default=True)

    # Edge-trigger state. `evaluated_at` is the check time of the last price judged, so an
    # older price arriving late (or a redelivered task) never moves the state backwards.
    armed = models.BooleanField(default=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    evaluated_point_id = models.BigIntegerField(null=True, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    # Raised by every save through rule_save: an event is once per rule revision and price, so a
    # rule edited after it fired can fire again on the price it already fired on.
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["product", "kind", "id"]
        indexes = [models.Index(fields=["product", "enabled"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.product}"


class AlertEvent(models.Model):
    """A rule fired on one price point: what the notification tells, frozen at that moment."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    product = models.ForeignKey("tracker.Product", on_delete=models.CASCADE, related_name="alert_events")
    listing = models.ForeignKey("tracker.Listing", on_delete=models.CASCADE, related_name="alert_events")
    price_point = models.ForeignKey(
        "tracker.PricePoint", on_delete=models.CASCADE, related_name="alert_events"
    )
    kind = models.CharField(max_length=20, choices=AlertRule.Kind.choices)
    reason = models.CharField(max_length=300)
    old_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    new_price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, blank=True)
    in_stock = models.BooleanField(null=True)
    quality = models.CharField(max_length=20, blank=True)
    quality_label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    rule_revision = models.PositiveIntegerField(default=0, help_text="The rule's revision that fired.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "price_point", "rule_revision"], name="alertevent_once_per_rule_revision_and_price"
            )
        ]
        indexes = [models.Index(fields=["product", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.reason} ({self.product})"

"""Deal scout data: sources, the items they list (deal listings), watches and matches."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class DealSource(models.Model):
    """A feed or listing page that is scanned for deals on its own interval."""

    class Kind(models.TextChoices):
        FEED = "feed", "RSS / Atom feed"
        JSON = "json", "JSON feed"
        HTML = "html", "HTML listing page"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deal_sources",
        help_text="Empty: shared by everyone on this PriceTracker.",
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FEED)
    url = models.URLField(max_length=2000)
    item_pattern = models.JSONField(
        default=dict,
        blank=True,
        help_text='HTML sources: CSS selectors {"item", "title", "price", "url", "image", '
        '"condition", "seller", "id", "next"}.',
    )
    default_currency = models.CharField(max_length=3, blank=True)
    max_pages = models.PositiveSmallIntegerField(default=3)
    poll_interval_minutes = models.PositiveIntegerField(default=30)
    enabled = models.BooleanField(default=True)

    next_scan_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_scan_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=20, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_item_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def poll_interval(self) -> timedelta:
        return timedelta(minutes=self.poll_interval_minutes)


class DealListing(models.Model):
    """An item seen on a deal source. Not a tracked product listing (`tracker.Listing`)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Listed"
        GONE = "gone", "Gone / sold"

    source = models.ForeignKey(DealSource, on_delete=models.CASCADE, related_name="listings")
    external_id = models.CharField(max_length=500)
    url = models.URLField(max_length=2000, blank=True)
    title = models.CharField(max_length=500)
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    previous_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    image_url = models.URLField(max_length=2000, blank=True)
    condition = models.CharField(max_length=12, default="unknown")
    seller = models.CharField(max_length=200, blank=True)
    in_stock = models.BooleanField(null=True, blank=True, help_text="What the source says; empty when it says nothing.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    price_changed_at = models.DateTimeField(null=True, blank=True)
    gone_at = models.DateTimeField(null=True, blank=True)
    lasted = models.DurationField(null=True, blank=True, help_text="How long it was listed.")

    class Meta:
        ordering = ["-first_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="deal_listing_unique_per_source")
        ]
        indexes = [
            models.Index(fields=["source", "status", "last_seen_at"]),
            models.Index(fields=["-first_seen_at"]),
        ]

    def __str__(self) -> str:
        return self.title


class Watch(models.Model):
    """What a person wants: keywords with exclusions, a price ceiling, a condition."""

    class Condition(models.TextChoices):
        ANY = "any", "Any"
        NEW = "new", "New"
        USED = "used", "Used or refurbished"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches")
    name = models.CharField(max_length=200, blank=True)
    query = models.CharField(
        max_length=300, help_text='Keywords; "-word" excludes, quotes keep a phrase: rtx 4070 -laptop'
    )
    max_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    condition = models.CharField(max_length=5, choices=Condition.choices, default=Condition.ANY)
    product = models.ForeignKey(
        "tracker.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="watches"
    )
    alert_min_score = models.PositiveSmallIntegerField(
        default=20, help_text="Notify for deals at least this many percent below the usual price."
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    comparables = models.JSONField(
        default=dict,
        blank=True,
        help_text="The comparables the last scoring used and left out, with why (shown on the deals page).",
    )

    class Meta:
        ordering = ["name", "query"]

    def __str__(self) -> str:
        return self.name or self.query


class DealMatch(models.Model):
    """A deal listing that matches a watch, scored against comparable prices."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="matches")
    listing = models.ForeignKey(DealListing, on_delete=models.CASCADE, related_name="matches")
    comparable_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    comparable_count = models.PositiveIntegerField(default=0)
    score = models.PositiveSmallIntegerField(default=0)
    confidence = models.FloatField(default=0.0)
    suspicious = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True)
    matched_at = models.DateTimeField(default=timezone.now)
    scored_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "-matched_at"]
        constraints = [models.UniqueConstraint(fields=["watch", "listing"], name="deal_match_unique")]

    def __str__(self) -> str:
        return f"{self.listing} for {self.watch} ({self.score})"

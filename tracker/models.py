"""What PriceTracker knows about prices: stores, products, listings and their history."""

from __future__ import annotations

import zlib

from django.conf import settings
from django.db import models
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone


class Priority(models.TextChoices):
    HIGH = "high", "High (every 15 min)"
    NORMAL = "normal", "Normal (hourly)"
    LOW = "low", "Low (daily)"


class Store(models.Model):
    """One shop, identified by its host and port. Politeness, health and extraction state live here."""

    class ExtractionStatus(models.TextChoices):
        OK = "ok", "OK"
        NEEDS_PATTERN = "needs_pattern", "Needs a pattern"
        BROKEN = "broken", "Extraction broken"

    class CircuitState(models.TextChoices):
        CLOSED = "closed", "Closed"
        OPEN = "open", "Open"
        HALF_OPEN = "half_open", "Half-open"

    domain = models.CharField(
        max_length=255, unique=True, help_text="Host, with the port when not the usual one: the store's key."
    )
    name = models.CharField(
        max_length=255,
        blank=True,
        help_text="Shown instead of the host. Learned from the shop's pages at the first successful "
        "check when empty; a name typed here is kept.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    # Politeness
    respect_robots = models.BooleanField(
        default=True, help_text="Honour robots.txt. Switch off only for shops that allow you."
    )
    robots_txt = models.TextField(blank=True)
    robots_fetched_at = models.DateTimeField(null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(default=30)
    max_concurrency = models.PositiveIntegerField(default=2)
    render_js = models.BooleanField(
        default=False, help_text="Fetch pages through a headless browser (pages that need JavaScript)."
    )
    # The store's own proxy URL, encrypted (tracker.fetching.proxies): it may hold a password.
    proxy_url_encrypted = models.TextField(blank=True, default="")
    proxy_direct = models.BooleanField(
        default=False,
        help_text="Connect directly even when a default proxy (FETCH_PROXY_URL) is set. "
        "A proxy of the store's own is used anyway.",
    )

    # Circuit breaker
    circuit_state = models.CharField(
        max_length=12, choices=CircuitState.choices, default=CircuitState.CLOSED
    )
    circuit_failures = models.PositiveIntegerField(default=0)
    # [listing id, owner id] of each listing failing since the last success (circuit.py).
    circuit_failing = models.JSONField(default=list, blank=True)
    circuit_opened_at = models.DateTimeField(null=True, blank=True)

    # Extraction health
    extraction_status = models.CharField(
        max_length=20, choices=ExtractionStatus.choices, default=ExtractionStatus.OK
    )
    extraction_status_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.name or self.domain

    @property
    def proxy_in_use(self) -> bool:
        """Whether requests to this store go through a proxy (its own or the default)."""
        return bool(self.proxy_url_encrypted) or (bool(settings.FETCH_PROXY_URL) and not self.proxy_direct)


class Product(models.Model):
    """What a person watches. It may be sold at several stores (one listing each)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="products"
    )
    name = models.CharField(max_length=300)
    image_url = models.URLField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tracker:product", args=[self.pk])


class Listing(models.Model):
    """A product's page at one store, and what its latest check found."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for first check"
        OK = "ok", "OK"
        NO_PRICE = "no_price", "No price found"
        ERROR = "error", "Fetch error"
        BLOCKED = "blocked", "Blocked by the shop"
        FLAGGED = "flagged", "Price doubtful"
        BROKEN = "broken", "Extraction broken"
        INVALID = "invalid", "Not a product page"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="listings")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="listings")
    url = models.URLField(max_length=2000)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    paused = models.BooleanField(default=False)
    # The owner's switch: this page in a browser although its store does not render.
    render_js = models.BooleanField(default=False, help_text="Fetch this page through a headless browser.")

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    status_reason = models.CharField(max_length=500, blank=True)
    # Indexed with `paused` (Meta.indexes), what the dispatcher reads; no index of its own.
    next_check_at = models.DateTimeField(default=timezone.now)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)

    # What the latest trusted check found
    title = models.CharField(max_length=500, blank=True)
    image_url = models.URLField(max_length=2000, blank=True)
    last_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    in_stock = models.BooleanField(null=True)

    # A summary of the price history, kept by the check path (tracker.history.summary_after_check)
    # so the dashboard never reads the history itself.
    last_price_at = models.DateTimeField(null=True, blank=True, help_text="The latest check that found a price.")
    previous_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    previous_price_at = models.DateTimeField(null=True, blank=True, help_text="When the previous price was last seen.")
    lowest_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    highest_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    trend = models.JSONField(default=list, blank=True, help_text="Recent price changes: [time, price] pairs.")

    # The price point the latest trusted check recorded or confirmed: an unchanged check
    # extends it with one conditional UPDATE instead of adding a row.
    # No index: only deleting price points looks listings up by it (housekeeping, a few
    # thousand listings at most), and every check that writes the listing would write it too.
    last_point = models.ForeignKey(
        "PricePoint", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    # The check log row this hour's routine checks are folded into (tracker.checking); read
    # forward only, like CheckLog.price_seen, so no constraint and no index.
    routine_check = models.ForeignKey(
        "CheckLog", on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+",
        db_constraint=False, db_index=False,
    )

    # Conditional requests
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)

    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["store__domain"]
        constraints = [
            models.UniqueConstraint(fields=["product", "url"], name="listing_unique_url_per_product")
        ]
        indexes = [models.Index(fields=["paused", "next_check_at"])]

    def __str__(self) -> str:
        return f"{self.product} @ {self.store}"


class CheckLogQuerySet(models.QuerySet):
    def active(self) -> CheckLogQuerySet:
        """Checks queued or running, found through the partial index `checklog_active`.

        The condition is written as the index's own SQL, with the outcomes as literals: SQLite
        uses a partial index only when the query's text implies the index's condition, and
        Django would send `outcome__in` values as bound parameters, which SQLite cannot check
        when it plans (the dispatcher's stale finder scanned the whole check log every minute).
        """
        active = ", ".join(f"'{outcome}'" for outcome in CheckLog.ACTIVE_OUTCOMES)
        column = f'"{CheckLog._meta.db_table}"."outcome"'
        return self.filter(RawSQL(f"{column} IN ({active})", [], output_field=models.BooleanField()))


class CheckLog(models.Model):
    """One check of a listing: queued by the dispatcher (or a person), run by a worker.

    A check is the unit of idempotency: a redelivered task finds its check already done,
    and the price point's one-to-one link to its check makes a second one impossible.
    """

    class Outcome(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        OK = "ok", "Price recorded"
        UNCHANGED = "unchanged", "Page not modified"
        NO_PRICE = "no_price", "No price found"
        FLAGGED = "flagged", "Price doubtful"
        ERROR = "error", "Fetch error"
        BLOCKED = "blocked", "Blocked"
        SKIPPED = "skipped", "Skipped"

    ACTIVE_OUTCOMES = (Outcome.QUEUED, Outcome.RUNNING)

    objects = CheckLogQuerySet.as_manager()

    # No index of its own: the (listing, -queued_at) index below starts with it.
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="checks", db_index=False)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.QUEUED)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True, help_text="In all, for folded checks.")
    method = models.CharField(max_length=30, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The price point this check recorded or confirmed. No constraint and no index: the check
    # log is pruned on its own schedule and only ever reads this id forward.
    price_seen = models.ForeignKey(
        "PricePoint", on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+",
        db_constraint=False, db_index=False,
    )
    # Routine checks (the same price confirmed, or the page not modified) of one listing within
    # one UTC hour are folded into the first one's row (tracker.checking): `checks` counts them,
    # `until` is when the latest finished, `duration_ms` is their total. The row's times stay
    # the first check's, so counts per hour stay exact and no index entry moves.
    checks = models.PositiveIntegerField(default=1, help_text="How many checks this row stands for.")
    until = models.DateTimeField(null=True, blank=True, help_text="When the latest check folded into this row finished.")

    class Meta:
        ordering = ["-queued_at"]
        indexes = [
            models.Index(fields=["listing", "-queued_at"]),
            # Only the checks still waiting or running: finished ones leave this index.
            models.Index(
                fields=["outcome", "queued_at"], name="checklog_active",
                condition=models.Q(outcome__in=["queued", "running"]),  # CheckLog.ACTIVE_OUTCOMES
            ),
        ]

    def __str__(self) -> str:
        return f"check {self.pk} of listing {self.listing_id}: {self.outcome}"

    @property
    def mean_ms(self) -> int | None:
        """How long one of the checks this row stands for took, on average."""
        return None if self.duration_ms is None else round(self.duration_ms / max(self.checks, 1))


class PricePoint(models.Model):
    """A price the shop stated, from the check that first found it (`checked_at`) to the
    latest check that found it again (`last_confirmed_at`, empty while only one did). Never written for a doubtful price.

    History is stored as changes: a check that finds the same price, currency and stock as the
    listing's current point extends that point (`last_confirmed_at`, `confirmations`); any
    change starts a new point, so a price that changes and comes back makes three points.
    """

    # No index of its own: the (listing, -checked_at) index below starts with it.
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="prices", db_index=False)
    check_log = models.OneToOneField(
        CheckLog, on_delete=models.SET_NULL, null=True, blank=True, related_name="price_point"
    )
    price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    in_stock = models.BooleanField(null=True)
    checked_at = models.DateTimeField(default=timezone.now, help_text="When a check first found this price.")
    last_confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a check last found this same price (empty: only the first did)."
    )
    confirmations = models.PositiveIntegerField(default=1, help_text="How many checks found it.")
    method = models.CharField(max_length=30, help_text="How the price was extracted.")
    # Why the price is believed (tracker.extraction.provenance): where it was read (structured
    # field, pattern or heuristic selector) and the page text it was read from.
    evidence_source = models.CharField(max_length=200, blank=True)
    evidence_text = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-checked_at"]
        indexes = [
            models.Index(fields=["listing", "-checked_at"]),
            # Deal quality's year of prices read from the index alone (deals.alerts.evaluation
            # products_quality); none of these columns changes when a check confirms a point.
            models.Index(fields=["listing", "currency", "checked_at", "price"], name="pricepoint_quality"),
        ]

    def __str__(self) -> str:
        return f"{self.price} {self.currency} at {self.checked_at:%Y-%m-%d %H:%M}"

    @property
    def confirmed_until(self):
        """The latest time a check found this price."""
        return self.last_confirmed_at or self.checked_at


class ExtractionPattern(models.Model):
    """One version of a store's learned selectors (`PatternSpec.as_dict()` in `spec`).

    A pattern without an owner is the store's, used for everyone's listings; a pattern with an
    owner is what that person picked or typed, used for his listings only (before the store's)
    until staff promote it to the store. At most one version is active per store and per
    owner; earlier versions are kept (retired) so a person can see what changed and when.
    """

    class Source(models.TextChoices):
        STRUCTURED = "structured", "Structured data"
        HEURISTIC = "heuristic", "Heuristics"
        LLM = "llm", "LLM"
        PERSON = "person", "A person"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PROBATION = "probation", "On probation"
        UNHEALTHY = "unhealthy", "Unhealthy"
        RETIRED = "retired", "Retired"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="patterns")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="extraction_patterns",
        help_text="Empty: the store's pattern. Set: used for this person's listings only.",
    )
    version = models.PositiveIntegerField()
    spec = models.JSONField()
    source = models.CharField(max_length=12, choices=Source.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    success_count = models.PositiveIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_validated_at = models.DateTimeField(null=True, blank=True)
    validated_on = models.JSONField(default=list, blank=True, help_text="URLs of the pages it was validated on.")
    created_at = models.DateTimeField(default=timezone.now)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["store", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["store", "version"], name="pattern_unique_version"),
            models.UniqueConstraint(
                fields=["store"],
                condition=models.Q(status="active", owner__isnull=True),
                name="pattern_one_active_per_store",
            ),
            models.UniqueConstraint(
                fields=["store", "owner"],
                condition=models.Q(status="active", owner__isnull=False),
                name="pattern_one_active_per_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store} pattern v{self.version} ({self.status})"


class ListingPage(models.Model):
    """A listing's fetched page (capped, zlib-compressed), kept as one of its store's sample
    pages: to validate and learn patterns, and to let a person point at the right price.

    A store keeps at most STORE_PAGES_KEPT of them, and a page is rewritten only when what
    extraction reads from it changes (`facts_hash`), not on every byte: shops change tokens
    and timestamps on every request (tracker.learning.samples.listing_page_save).
    """

    listing = models.OneToOneField(Listing, on_delete=models.CASCADE, related_name="page")
    url = models.URLField(max_length=2000)
    html_z = models.BinaryField(default=b"", help_text="The HTML, zlib-compressed.")
    facts_hash = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of what extraction read from the page (price, where, its text)."
    )
    truncated = models.BooleanField(default=False)
    fetched_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"page of listing {self.listing_id} at {self.fetched_at:%Y-%m-%d %H:%M}"

    @property
    def html(self) -> str:
        return html_unpack(self.html_z)

    @html.setter
    def html(self, value: str) -> None:
        self.html_z = html_pack(value)


def html_pack(html: str) -> bytes:
    return zlib.compress((html or "").encode("utf-8", "surrogatepass"), 6)


def html_unpack(data: bytes | memoryview | None) -> str:
    return zlib.decompress(bytes(data)).decode("utf-8", "surrogatepass") if data else ""


class LLMCall(models.Model):
    """One request to the LLM server, with the tokens it used."""

    store = models.ForeignKey(Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="llm_calls")
    purpose = models.CharField(max_length=40, default="pattern")
    model = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "LLM call"

    def __str__(self) -> str:
        return f"LLM call {self.pk} ({self.prompt_tokens}+{self.completion_tokens} tokens)"


class Preference(models.Model):
    """What one person chose for how PriceTracker shows things to them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracker_preference")
    # ISO 4217 code prices are converted to; blank: each price in its own currency only.
    display_currency = models.CharField(max_length=3, blank=True)

    def __str__(self) -> str:
        return f"preferences of {self.user}"


class ExchangeRate(models.Model):
    """The latest reference rate of one currency: units of it per one euro (the ECB's base)."""

    currency = models.CharField(max_length=3, primary_key=True)
    per_euro = models.DecimalField(max_digits=20, decimal_places=8)
    published_on = models.DateField()  # the day the source published the rate
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["currency"]

    def __str__(self) -> str:
        return f"1 EUR = {self.per_euro} {self.currency} ({self.published_on})"


class ApiToken(models.Model):
    """A person's key to the REST API. Only the SHA-256 of the token is kept: a stolen
    database does not hand out working tokens, and a lost token is revoked, never shown again."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to tell tokens apart.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"API token {self.pk} ({self.prefix}…)"


class ImportJob(models.Model):
    """A list of URLs (or CSV rows) a person asked to track, handled by a worker row by row.
    `results` holds one entry per row: {"line", "url", "outcome", "message", "product_id"}."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows = models.JSONField(default=list, help_text="The parsed rows still to handle, as given.")
    results = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.owner_id} ({self.status})"

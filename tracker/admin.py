from django import forms
from django.conf import settings
from django.contrib import admin

from .fetching.proxies import proxy_mask, proxy_url_encrypt, proxy_url_validate, store_proxy_shown
from .models import ApiToken, CheckLog, ImportJob, Listing, PricePoint, Product, Store


class ListingInline(admin.TabularInline):
    model = Listing
    extra = 0
    fields = ("url", "store", "priority", "paused", "status", "last_price", "currency", "next_check_at")
    readonly_fields = ("status", "last_price", "currency")
    show_change_link = True


class _TypedNotShown(forms.TextInput):
    """Shows what is typed, and never renders a value back (not even after a form error)."""

    def format_value(self, value):  # type: ignore[no-untyped-def]
        return None


class StoreForm(forms.ModelForm):
    """The store with its proxy: typed in plain, validated, stored encrypted, never shown back."""

    proxy = forms.CharField(
        required=False,
        label="New proxy",
        strip=True,
        widget=_TypedNotShown(attrs={"autocomplete": "off", "placeholder": "socks5://user:password@10.0.0.2:1080"}),
        help_text="http://, https://, socks5:// or socks5h://, [user:password@]host:port. "
        "Leave empty to keep the current one. Stored encrypted; the password is never shown again.",
    )
    proxy_remove = forms.BooleanField(required=False, label="Remove the store's own proxy")

    class Meta:
        model = Store
        exclude = ("proxy_url_encrypted",)

    def clean_proxy(self) -> str:
        url = self.cleaned_data.get("proxy", "")
        if url:
            try:
                return proxy_url_validate(url)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return url


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    form = StoreForm
    list_display = (
        "domain", "name", "extraction_status", "circuit_state", "respect_robots", "render_js", "proxy_column",
        "rate_limit_per_minute",
    )
    list_editable = ("name",)  # staff correct a learned name in place
    list_filter = ("extraction_status", "circuit_state", "respect_robots", "render_js")
    search_fields = ("domain", "name")
    readonly_fields = ("created_at", "robots_fetched_at", "circuit_failures", "circuit_opened_at", "proxy_current")
    actions = ("circuit_close", "robots_forget")

    @admin.display(description="Proxy")
    def proxy_column(self, obj: Store) -> str:
        if obj.proxy_url_encrypted:
            return store_proxy_shown(obj)
        return "default" if obj.proxy_in_use else "—"

    @admin.display(description="Current proxy")
    def proxy_current(self, obj: Store) -> str:
        if obj.proxy_url_encrypted:
            return store_proxy_shown(obj)
        if obj.proxy_in_use:
            return f"none of its own: the default, {proxy_mask(settings.FETCH_PROXY_URL)} (FETCH_PROXY_URL)"
        return "none: direct connection"

    def save_model(self, request, obj, form, change):
        if form.cleaned_data.get("proxy"):
            obj.proxy_url_encrypted = proxy_url_encrypt(form.cleaned_data["proxy"])
        elif form.cleaned_data.get("proxy_remove"):
            obj.proxy_url_encrypted = ""
        super().save_model(request, obj, form, change)

    @admin.action(description="Close the circuit breaker (resume checks now)")
    def circuit_close(self, request, queryset):
        queryset.update(circuit_state=Store.CircuitState.CLOSED, circuit_failures=0, circuit_opened_at=None)

    @admin.action(description="Forget the cached robots.txt (read it again at the next check)")
    def robots_forget(self, request, queryset):
        queryset.update(robots_txt="", robots_fetched_at=None)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")
    search_fields = ("name",)
    list_filter = ("owner",)
    inlines = [ListingInline]


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ("product", "store", "priority", "status", "last_price", "currency", "in_stock", "last_checked_at", "next_check_at", "paused")
    list_filter = ("status", "priority", "paused", "store")
    search_fields = ("url", "product__name", "title")
    raw_id_fields = ("product",)
    list_select_related = ("product", "store")
    readonly_fields = ("recent_prices",)

    @admin.display(description="Latest prices")
    def recent_prices(self, obj: Listing) -> str:
        from django.utils.html import format_html_join

        from .templatetags.tracker_ui import when

        points = obj.prices.order_by("-checked_at")[:20]
        return format_html_join(
            "", "<div>{} — {} {} <small>({})</small></div>",
            ((when(p.checked_at), p.price, p.currency, p.method) for p in points),
        ) or "none yet"


class _ReadOnlyHistory:
    """History is what checks found: shown, never edited by hand (deleting stays possible)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CheckLog)
class CheckLogAdmin(_ReadOnlyHistory, admin.ModelAdmin):
    list_display = ("id", "listing", "outcome", "http_status", "duration_ms", "method", "queued_at", "finished_at")
    list_filter = ("outcome", "method")
    raw_id_fields = ("listing",)
    search_fields = ("error", "listing__url")
    date_hierarchy = "queued_at"
    list_select_related = ("listing__product", "listing__store")


@admin.register(PricePoint)
class PricePointAdmin(_ReadOnlyHistory, admin.ModelAdmin):
    list_display = ("listing", "price", "currency", "in_stock", "method", "checked_at")
    list_filter = ("method", "currency")
    raw_id_fields = ("listing", "check_log")
    date_hierarchy = "checked_at"


# --- extraction patterns --------------------------------------------------------------------

from django.utils.html import format_html_join  # noqa: E402

from .models import ExtractionPattern, ListingPage, LLMCall  # noqa: E402


@admin.register(ExtractionPattern)
class ExtractionPatternAdmin(admin.ModelAdmin):
    list_display = ("store", "owner", "version", "status", "source", "success_count", "failure_count", "consecutive_failures", "last_validated_at", "created_at")
    list_filter = ("status", "source")
    search_fields = ("store__domain", "notes")
    raw_id_fields = ("store", "owner")
    readonly_fields = ("success_count", "failure_count", "consecutive_failures", "last_validated_at", "validated_on", "created_at")
    actions = ("promote",)

    @admin.action(description="Promote a person's pattern to the store's pattern (after validating it)")
    def promote(self, request, queryset):
        from .learning import learn

        for pattern in queryset.exclude(owner__isnull=True):
            promoted, problems = learn.pattern_promote(pattern=pattern)
            if promoted is None:
                self.message_user(request, f"{pattern}: not promoted: {'; '.join(problems[:3])}", level="error")
            else:
                self.message_user(request, f"{pattern}: promoted as version {promoted.version}")


@admin.register(ListingPage)
class ListingPageAdmin(admin.ModelAdmin):
    list_display = ("listing", "url", "fetched_at", "truncated")
    raw_id_fields = ("listing",)
    exclude = ("html_z",)
    readonly_fields = ("listing", "url", "fetched_at", "truncated", "layers")

    @admin.display(description="What each layer extracts")
    def layers(self, obj: ListingPage) -> str:
        from .learning import pattern_help, reads

        spec = reads.pattern_spec(reads.store_active_pattern(store_id=obj.listing.store_id))
        readings = pattern_help.page_layers(html=obj.html, url=obj.url, spec=spec)
        return format_html_join(
            "", "<p><strong>{}</strong>: {} <small>({})</small></p>",
            ((r.layer, r.price if r.price is not None else "no price", r.detail) for r in readings),
        )


@admin.register(LLMCall)
class LLMCallAdmin(admin.ModelAdmin):
    list_display = ("created_at", "store", "purpose", "model", "prompt_tokens", "completion_tokens", "ok", "duration_ms")
    list_filter = ("ok", "purpose", "model")
    raw_id_fields = ("store",)


from .models import ExchangeRate, Preference  # noqa: E402


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Read-only: the rates come from RATES_URL once a day, and an edited rate would compare
    prices wrongly until the next fetch."""

    list_display = ("currency", "per_euro", "published_on", "fetched_at")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "display_currency")
    list_select_related = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff see and revoke (delete) tokens; a token is made by its owner, who alone sees it."""

    list_display = ("prefix", "owner", "name", "created_at", "last_used_at")
    search_fields = ("owner__username", "name", "prefix")
    readonly_fields = ("owner", "name", "prefix", "key_hash", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "owner", "status", "total", "created_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = ("owner", "status", "total", "rows", "results", "error", "created_at", "finished_at")

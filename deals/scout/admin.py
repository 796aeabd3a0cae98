from django.contrib import admin

from ..models import DealListing, DealMatch, DealSource, Watch


@admin.register(DealSource)
class DealSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "owner", "enabled", "poll_interval_minutes", "last_status", "last_item_count", "last_scan_at", "next_scan_at")
    list_filter = ("kind", "enabled", "last_status")
    search_fields = ("name", "url")


@admin.register(DealListing)
class DealListingAdmin(admin.ModelAdmin):
    list_display = ("title", "source", "price", "currency", "condition", "status", "first_seen_at", "last_seen_at", "lasted")
    list_filter = ("status", "condition", "source")
    search_fields = ("title", "external_id", "url")


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ("__str__", "owner", "query", "max_price", "condition", "product", "alert_min_score", "enabled")
    list_filter = ("condition", "enabled")
    search_fields = ("query", "name")
    raw_id_fields = ("product",)
    readonly_fields = ("comparables",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        from .. import tasks

        tasks.enqueue_watch_match(watch_id=obj.pk)


@admin.register(DealMatch)
class DealMatchAdmin(admin.ModelAdmin):
    list_display = ("listing", "watch", "score", "confidence", "suspicious", "comparable_price", "comparable_count", "notified_at")
    list_filter = ("suspicious",)
    raw_id_fields = ("watch", "listing")

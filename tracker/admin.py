from django.contrib import admin

from .models import CheckLog, Listing, PricePoint, Product, Store


class ListingInline(admin.TabularInline):
    model = Listing
    extra = 0
    fields = ("url", "store", "priority", "paused", "status", "last_price", "currency", "next_check_at")
    readonly_fields = ("status", "last_price", "currency")
    show_change_link = True


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("domain", "extraction_status", "circuit_state", "respect_robots", "render_js", "rate_limit_per_minute")
    list_filter = ("extraction_status", "circuit_state", "respect_robots", "render_js")
    search_fields = ("domain", "name")


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


@admin.register(CheckLog)
class CheckLogAdmin(admin.ModelAdmin):
    list_display = ("id", "listing", "outcome", "http_status", "duration_ms", "method", "queued_at", "finished_at")
    list_filter = ("outcome", "method")
    raw_id_fields = ("listing",)
    search_fields = ("error", "listing__url")


@admin.register(PricePoint)
class PricePointAdmin(admin.ModelAdmin):
    list_display = ("listing", "price", "currency", "in_stock", "method", "checked_at")
    list_filter = ("method", "currency")
    raw_id_fields = ("listing", "check_log")
    date_hierarchy = "checked_at"

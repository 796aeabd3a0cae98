"""Admin for alert rules and the events they fired."""

from django.contrib import admin

from ..models import AlertEvent, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("product", "kind", "threshold", "store", "enabled", "armed", "last_fired_at")
    list_filter = ("kind", "enabled", "armed")
    search_fields = ("product__name",)
    raw_id_fields = ("product", "store")
    readonly_fields = ("evaluated_at", "evaluated_point_id", "last_fired_at")


@admin.register(AlertEvent)
class AlertEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "product", "kind", "old_price", "new_price", "currency", "quality_label")
    list_filter = ("kind", "quality")
    search_fields = ("product__name", "reason")
    raw_id_fields = ("rule", "product", "listing", "price_point")

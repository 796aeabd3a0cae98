"""Admin for alert rules, events, channels and the outbox. Channel secrets are never shown."""

from django.contrib import admin

from .models import AlertEvent, AlertRule, Channel, Notification, NotificationSettings


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


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "kind", "url_masked", "email_to", "mode", "enabled", "last_test_ok")
    list_filter = ("kind", "mode", "enabled")
    search_fields = ("name", "owner__username")
    # The encrypted URL is left out entirely: people change a channel's URL in the app.
    fields = ("owner", "name", "kind", "url_masked", "email_to", "mode", "enabled", "last_test_at", "last_test_ok", "last_test_error")
    readonly_fields = ("url_masked", "last_test_at", "last_test_ok", "last_test_error")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "channel", "status", "digest", "attempts", "deliver_after", "sent_at")
    list_filter = ("status", "digest")
    raw_id_fields = ("event", "channel")
    readonly_fields = ("claim_token", "claimed_at", "send_started_at", "sent_at")


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ("user", "quiet_start", "quiet_end", "timezone")

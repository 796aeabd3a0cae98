"""Admin for channels, the outbox and quiet hours. Channel secrets are never shown."""

from django.contrib import admin

from ..models import Channel, DealNotification, Notification, NotificationSettings


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


@admin.register(DealNotification)
class DealNotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "match", "channel", "status", "digest", "attempts", "deliver_after", "sent_at")
    list_filter = ("status", "digest")
    raw_id_fields = ("match", "channel")
    readonly_fields = ("claim_token", "claimed_at", "send_started_at", "sent_at")


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ("user", "quiet_start", "quiet_end", "timezone")

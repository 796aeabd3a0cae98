from django.urls import path

from . import transfer_views
from .alerts import views as alerts_views
from .notifications import views as notifications_views

app_name = "deals"

urlpatterns = [
    path("", alerts_views.feed, name="index"),
    path("products/<int:product_id>/rules/", alerts_views.rules, name="rules"),
    path("rules/<int:pk>/toggle/", alerts_views.rule_toggle, name="rule_toggle"),
    path("rules/<int:pk>/delete/", alerts_views.rule_delete, name="rule_delete"),
    path("channels/", notifications_views.channels, name="channels"),
    path("channels/<int:pk>/", notifications_views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/test/", notifications_views.channel_test_view, name="channel_test"),
    path("channels/<int:pk>/delete/", notifications_views.channel_delete, name="channel_delete"),
    path("notifications/", notifications_views.notifications, name="notifications"),
    path("notifications/<int:pk>/retry/", notifications_views.notification_retry_view, name="notification_retry"),
    path("settings/", alerts_views.settings_view, name="settings"),
    path("account/", transfer_views.account_page, name="account"),
    path("account/export.json", transfer_views.account_download, name="account_export"),
]

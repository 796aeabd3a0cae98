from django.urls import path

from . import views

app_name = "deals"

urlpatterns = [
    path("", views.feed, name="index"),
    path("products/<int:product_id>/rules/", views.rules, name="rules"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("channels/", views.channels, name="channels"),
    path("channels/<int:pk>/", views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/test/", views.channel_test_view, name="channel_test"),
    path("channels/<int:pk>/delete/", views.channel_delete, name="channel_delete"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/retry/", views.notification_retry_view, name="notification_retry"),
    path("settings/", views.settings_view, name="settings"),
]

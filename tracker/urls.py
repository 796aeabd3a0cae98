from django.urls import path

from . import views, views_add, views_import_export
from .api import views as api_views
from .learning import views as learning_views

app_name = "tracker"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("add", views_add.add, name="add"),
    path("manifest.webmanifest", views_add.manifest, name="manifest"),
    path("favicon.ico", views_add.favicon, name="favicon"),
    path("preferences/currency/", views.display_currency, name="display_currency"),
    path("products/<int:pk>/", views.product_detail, name="product"),
    path("products/<int:pk>/stores/", views.product_add_listing, name="product_add_listing"),
    path("products/<int:pk>/rename/", views.product_rename, name="product_rename"),
    path("products/<int:pk>/pause/", views.product_pause, name="product_pause"),
    path("products/<int:pk>/delete/", views.product_delete, name="product_delete"),
    path("listings/<int:pk>/priority/", views.listing_priority, name="listing_priority"),
    path("listings/<int:pk>/pause/", views.listing_pause, name="listing_pause"),
    path("listings/<int:pk>/render/", views.listing_render, name="listing_render"),
    path("listings/<int:pk>/check/", views.listing_check_now, name="listing_check_now"),
    path("listings/<int:pk>/delete/", views.listing_delete, name="listing_delete"),
    path("listings/<int:pk>/status.json", views.listing_status, name="listing_status"),
    path("listings/<int:pk>/extraction/", learning_views.listing_extraction, name="listing_extraction"),
    path("import/", views_import_export.import_page, name="import"),
    path("import/<int:pk>/", views_import_export.import_detail, name="import_detail"),
    path("import/<int:pk>/status.json", views_import_export.import_status_json, name="import_status"),
    path("export/history.csv", views_import_export.history_export, {"fmt": "csv"}, name="history_export_csv"),
    path("export/history.json", views_import_export.history_export, {"fmt": "json"}, name="history_export_json"),
    path("products/<int:pk>/history.csv", views_import_export.product_history_export, {"fmt": "csv"}, name="product_history_csv"),
    path("products/<int:pk>/history.json", views_import_export.product_history_export, {"fmt": "json"}, name="product_history_json"),
    path("settings/tokens/", api_views.tokens, name="settings_tokens"),
    path("settings/tokens/<int:pk>/revoke/", api_views.token_delete, name="settings_token_delete"),
    path("listings/<int:pk>/page/", learning_views.listing_page_preview, name="listing_page_preview"),
]

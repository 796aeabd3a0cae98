from django.urls import path

from . import views

app_name = "scout"

urlpatterns = [
    path("", views.deal_list, name="deals"),
    path("watches/", views.watch_list, name="watches"),
    path("watches/<int:pk>/", views.watch_edit, name="watch_edit"),
    path("watches/<int:pk>/delete/", views.watch_delete, name="watch_delete"),
    path("sources/", views.source_list, name="sources"),
    path("sources/<int:pk>/scan/", views.source_scan_now, name="source_scan"),
    path("sources/<int:pk>/delete/", views.source_delete, name="source_delete"),
]

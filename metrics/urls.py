from django.urls import path

from . import views

app_name = "metrics"

urlpatterns = [
    path("health", views.health, name="health"),
    path("health/detailed", views.health_detailed_view, name="health_detailed"),
    path("metrics", views.prometheus, name="prometheus"),
    path("metrics/dashboard/", views.dashboard, name="dashboard"),
    path("metrics/api/", views.api, name="api"),
    path("metrics/quality/", views.quality_view, name="quality"),
]

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TrackerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tracker"

    def ready(self) -> None:
        from .periodic import periodic_tasks_sync

        post_migrate.connect(periodic_tasks_sync, sender=self, dispatch_uid="tracker-periodic-tasks")
        from . import ui
        from .learning import views as learning_views

        ui.product_panel_register(
            template="tracker/patterns/_product_panel.html", context=learning_views.product_panel_context, order=30
        )

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "metrics"

    def ready(self) -> None:
        from django.conf import settings

        from . import receivers  # noqa: F401  (connects the signal hooks)
        from .tracing import tracing_setup

        if settings.METRICS_ENABLED:
            from .instruments import multiproc_dirs_prune

            try:
                multiproc_dirs_prune()
            except OSError:
                pass
        tracing_setup(role="web")
        from tracker import ui

        ui.nav_link_register(label="Metrics", url_name="metrics:dashboard", order=80, staff_only=True)

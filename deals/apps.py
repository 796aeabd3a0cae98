import logging

from django.apps import AppConfig


def dashboard_rows_annotate(*, request, rows) -> None:
    """Deal quality of every dashboard row, judged in bulk (`row.extra["deal_quality"]`)."""
    from .alerts.evaluation import products_quality

    quality = products_quality(products=[row.product for row in rows])
    for row in rows:
        row.extra["deal_quality"] = quality.get(row.product.pk)


class DealsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "deals"

    def ready(self) -> None:
        from tracker import ui
        from tracker.signals import check_finished, target_price_requested

        from . import tasks, transfer

        check_finished.connect(tasks.on_check_finished, dispatch_uid="deals.on_check_finished")
        from django.db.models.signals import post_delete, post_save

        from .alerts.evaluation import rule_product_touch
        from .models import AlertRule

        post_save.connect(rule_product_touch, sender=AlertRule, dispatch_uid="deals.rule_product_touch")
        post_delete.connect(rule_product_touch, sender=AlertRule, dispatch_uid="deals.rule_product_touch_gone")
        target_price_requested.connect(transfer.on_target_price_requested, dispatch_uid="deals.target_price")
        ui.nav_link_register(label="Alerts", url_name="deals:index", order=20)
        ui.nav_link_register(label="Notifications", url_name="deals:notifications", order=25)
        ui.nav_link_register(label="Deal scout", url_name="scout:deals", order=22)
        ui.product_panel_register(template="deals/_product_panel.html", order=20)
        ui.dashboard_rows_register(dashboard_rows_annotate)
        # Apprise logs plugin details that can include parts of channel URLs; its messages are
        # captured per send (and redacted) instead of going to the application log.
        apprise_log = logging.getLogger("apprise")
        apprise_log.propagate = False
        if not apprise_log.handlers:
            apprise_log.addHandler(logging.NullHandler())

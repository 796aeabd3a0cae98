from django.apps import AppConfig


class DemoshopConfig(AppConfig):
    """The demo shop as a Django app only for its management commands (`manage.py demoshop`,
    `manage.py demo`): it has no models, and the product never imports it."""

    name = "demoshop"
    verbose_name = "Demo shop"

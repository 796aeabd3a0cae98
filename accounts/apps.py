from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """People: ordinary accounts, invitations, self sign-up and password reset."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "People"

    def ready(self) -> None:
        from tracker import ui

        ui.nav_link_register(label="Settings", url_name="accounts:settings", order=90)

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def people_options() -> dict:
    """What the login page offers besides logging in (read per request: tests change settings)."""
    return {"signup": settings.SIGNUP_ENABLED, "password_reset": settings.PASSWORD_RESET_ENABLED}

from . import admin_alerts  # noqa: F401  (registers alert rules, channels and notifications)
from .scout import admin as scout_admin  # noqa: F401  (registers the deal scout's models)

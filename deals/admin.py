from .alerts import admin as alerts_admin  # noqa: F401  (alert rules and events)
from .notifications import admin as notifications_admin  # noqa: F401  (channels, the outbox, quiet hours)
from .scout import admin as scout_admin  # noqa: F401  (the deal scout's models)

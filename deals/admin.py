from .scout import admin as scout_admin  # noqa: F401  (registers the deal scout's models)

"""Models of the deals app: alert rules and notifications (below), and the deal scout."""

from .scout.models import DealListing, DealMatch, DealSource, Watch  # noqa: F401  (scout models)

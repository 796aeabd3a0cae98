"""Models of the deals app, one module per job: alerts, notifications, the deal scout."""

from .alerts import AlertEvent, AlertRule
from .notifications import Channel, Notification, NotificationSettings
from .scout import DealListing, DealMatch, DealNotification, DealSource, Watch

__all__ = [
    "AlertEvent",
    "AlertRule",
    "Channel",
    "DealListing",
    "DealMatch",
    "DealNotification",
    "DealSource",
    "Notification",
    "NotificationSettings",
    "Watch",
]

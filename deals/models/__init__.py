"""Models of the deals app, one module per job: alerts, notifications, the deal scout."""

from .alerts import AlertEvent, AlertRule
from .notifications import Channel, DealNotification, Notification, NotificationSettings, OutboxRow
from .scout import DealListing, DealMatch, DealSource, Watch

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
    "OutboxRow",
    "Watch",
]

"""Quiet hours. Pure: given a moment and a person's window, when may we notify?"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _inside(clock: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end  # the window crosses midnight


def quiet_until(*, now: datetime, start: time | None, end: time | None, tz: str) -> datetime | None:
    """The (aware) moment the quiet window that contains `now` ends, or None if `now` is not quiet."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(zone(tz))
    if not _inside(local.time(), start, end):
        return None
    end_day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    naive_end = datetime.combine(end_day, end)
    return naive_end.replace(tzinfo=zone(tz))

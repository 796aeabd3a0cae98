"""Template helpers of the web UI: money, signed changes, charts, navigation."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import dateformat, timezone
from django.utils.safestring import mark_safe

from .. import charts, ui
from ..money import money_format

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """`{{ listing.last_price|money:listing.currency }}` → `€1,299.99`."""
    return money_format(amount=amount, currency=currency)


@register.filter
def signed_money(amount, currency: str = "") -> str:
    if amount is None:
        return ""
    text = money_format(amount=amount, currency=currency)
    return f"+{text}" if Decimal(str(amount)) > 0 else text


@register.filter
def signed_pct(value) -> str:
    if value is None:
        return ""
    number = Decimal(str(value))
    if number > 0:
        return f"+{number}%"
    if number < 0:
        return f"−{abs(number)}%"
    return "0%"


@register.filter
def direction(value) -> str:
    """CSS class for a price change: a drop is good news for the buyer."""
    if value is None:
        return "flat"
    number = Decimal(str(value))
    return "down" if number < 0 else "up" if number > 0 else "flat"


@register.simple_tag
def sparkline(points, title: str = "Price trend over 30 days"):
    return mark_safe(charts.sparkline_svg(points, title=title))


@register.simple_tag(takes_context=True)
def nav_links(context) -> list[dict]:
    request = context.get("request")
    return ui.nav_links(user=getattr(request, "user", None))


# One way to show a moment everywhere: "7 Dec 2026, 14:05" in the site's time zone.
WHEN_FORMAT = "j M Y, H:i"


@register.filter
def when(value) -> str:
    """A date and time as every page shows it (empty for none)."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, WHEN_FORMAT)

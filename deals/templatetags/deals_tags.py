"""`{% deal_quality product %}`: where the product's current price sits in its own history."""

from django import template

from ..alerts import product_quality

register = template.Library()


@register.inclusion_tag("deals/_quality.html")
def deal_quality(product) -> dict:
    return {"quality": product_quality(product=product)}

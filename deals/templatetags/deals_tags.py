"""`{% deal_quality product %}`: where the product's current price sits in its own history."""

from django import template

from ..alerts.evaluation import products_quality

register = template.Library()

_CACHE = "_deals_quality"


def _page_products(context, product) -> list:
    """The products listed on this page (dashboard rows, product lists), judged together."""
    found = {product.pk: product}
    for name in ("rows", "products", "object_list"):
        for item in context.get(name) or []:
            candidate = getattr(item, "product", item)
            if hasattr(candidate, "alert_rules"):
                found.setdefault(candidate.pk, candidate)
    return list(found.values())


@register.inclusion_tag("deals/_quality.html", takes_context=True)
def deal_quality(context, product, quality=None) -> dict:
    """`quality` given (the dashboard's `row.extra.deal_quality`, filled in bulk): shown as is."""
    if quality is not None:
        return {"quality": quality}
    # Otherwise one bulk judgement per request: a list of products costs the same few queries as one.
    holder = context.get("request") or context.render_context
    cache = getattr(holder, _CACHE, None) if holder is context.get("request") else holder.get(_CACHE)
    if cache is None or product.pk not in cache:
        cache = products_quality(products=_page_products(context, product))
        if holder is context.get("request"):
            setattr(holder, _CACHE, cache)
        else:
            holder[_CACHE] = cache
    return {"quality": cache[product.pk]}

"""Extension points of the web UI, for other apps to add pages and panels without editing it.

Call these from an AppConfig.ready():

    from tracker import ui
    ui.nav_link_register(label="Deals", url_name="deals:index", order=20)
    ui.product_panel_register(template="deals/_product_panel.html", context=deals_context)

`context(request, product)` returns extra template variables for the panel; the panel template
also gets `product`, `listings` (the ListingDetail list) and `request`.

The dashboard shows many products: add per-row data in bulk, once per page, not per row
(a template tag that queries per row makes the page cost grow with the products):

    def annotate(*, request, rows):          # rows: list[selectors.ProductSummary]
        quality = product_quality_bulk(products=[row.product for row in rows])
        for row in rows:
            row.extra["deal_quality"] = quality.get(row.product.pk)
    ui.dashboard_rows_register(annotate)

and read `row.extra.deal_quality` in a template (`templates/tracker/dashboard.html`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavLink:
    label: str
    url_name: str
    order: int = 50
    staff_only: bool = False


@dataclass(frozen=True)
class ProductPanel:
    template: str
    context: Callable | None = None
    order: int = 50


_nav_links: dict[str, NavLink] = {}
_product_panels: dict[str, ProductPanel] = {}
_dashboard_annotators: dict[str, Callable] = {}


def nav_link_register(*, label: str, url_name: str, order: int = 50, staff_only: bool = False) -> None:
    """Add a link to the top navigation. Registering the same url_name again replaces it."""
    _nav_links[url_name] = NavLink(label=label, url_name=url_name, order=order, staff_only=staff_only)


def product_panel_register(*, template: str, context: Callable | None = None, order: int = 50) -> None:
    """Add a panel to the product page, below the stores. Registering a template again replaces it."""
    _product_panels[template] = ProductPanel(template=template, context=context, order=order)


def dashboard_rows_register(annotate: Callable) -> None:
    """Add data to the dashboard's rows: `annotate(request=..., rows=...)`, once per page."""
    _dashboard_annotators[f"{annotate.__module__}.{annotate.__qualname__}"] = annotate


def dashboard_rows_annotate(*, request, rows: list) -> None:
    for annotate in _dashboard_annotators.values():
        annotate(request=request, rows=rows)


def nav_links(*, user) -> list[dict]:
    links = [{"label": "Products", "url": reverse("tracker:dashboard"), "url_name": "tracker:dashboard"}]
    for link in sorted(_nav_links.values(), key=lambda item: (item.order, item.label)):
        if link.staff_only and not getattr(user, "is_staff", False):
            continue
        try:
            url = reverse(link.url_name)
        except NoReverseMatch:
            continue  # an app registered a link to a page it has not wired up (yet)
        links.append({"label": link.label, "url": url, "url_name": link.url_name})
    return links


def product_panels(*, request, product) -> list[tuple[str, dict]]:
    panels = []
    for panel in sorted(_product_panels.values(), key=lambda item: (item.order, item.template)):
        extra = panel.context(request, product) if panel.context else {}
        panels.append((panel.template, extra or {}))
    return panels

"""Web UI of tracking. Thin: check input with a form, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import charts, selectors, services, tasks, ui, views_add
from .forms import DisplayCurrencyForm, ListingAddForm, ListingPriorityForm, ProductAddForm, ProductRenameForm
from .models import Listing

PRODUCTS_PER_PAGE = 50
CHECKS_PER_PAGE = 25
PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365, "all": None}
DEFAULT_PERIOD = "90"


@login_required
@require_http_methods(["GET", "POST"])
def dashboard(request: HttpRequest) -> HttpResponse:
    form = ProductAddForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        response = views_add.add_submit(request, form)
        if response is not None:
            return response
    page = Paginator(selectors.products_for(owner=request.user).values_list("pk", flat=True), PRODUCTS_PER_PAGE)
    page_obj = page.get_page(request.GET.get("page"))
    display = selectors.display_currency_for(owner=request.user)
    rows = selectors.product_summaries(
        owner=request.user, product_ids=list(page_obj.object_list), display_currency=display
    )
    ui.dashboard_rows_annotate(request=request, rows=rows)
    status = 400 if form.errors else 200
    return render(
        request,
        "tracker/dashboard.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page_obj,
            "any_checking": any(row.checking for row in rows),
            "currency_form": DisplayCurrencyForm(initial={"display_currency": display}),
        },
        status=status,
    )


def _product_context(request: HttpRequest, product, **forms) -> dict:
    period = request.GET.get("days", DEFAULT_PERIOD)
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    days = PERIODS[period]
    details = selectors.product_listings(product=product, days=days)
    tz = timezone.get_current_timezone()
    # A store keeps its colour on every chart of the page
    for index, detail in enumerate(details):
        detail.series = charts.Series(
            str(detail.listing.store), detail.points, color=charts.PALETTE[index % len(charts.PALETTE)],
            notes=detail.notes,
        )
    for detail in details:
        series = [detail.series]
        currency = detail.listing.currency
        detail.chart_wide = mark_safe(charts.history_chart_svg(series, currency=currency, tz=tz))
        detail.chart_narrow = mark_safe(
            charts.history_chart_svg(series, currency=currency, width=360, height=240, max_x_ticks=4, font_size=13, tz=tz)
        )
    converted = selectors.prices_converted(owner=request.user, listings=[detail.listing for detail in details])
    for detail in details:
        detail.converted = converted.get(detail.listing.pk)
    combined = []
    if len(details) > 1:
        by_currency: dict[str, list] = {}
        for detail in details:
            by_currency.setdefault(detail.listing.currency, []).append(detail)
        for currency, group in by_currency.items():
            if not any(item.points for item in group):
                continue
            series = [item.series for item in group]
            combined.append(
                {
                    "currency": currency,
                    "wide": mark_safe(charts.history_chart_svg(series, currency=currency, tz=tz, title="All stores")),
                    "narrow": mark_safe(
                        charts.history_chart_svg(
                            series, currency=currency, width=360, height=260, max_x_ticks=4, font_size=13, tz=tz, title="All stores"
                        )
                    ),
                }
            )
    checks = Paginator(selectors.product_checks(product=product), CHECKS_PER_PAGE).get_page(
        request.GET.get("checks")
    )
    checks.object_list = selectors.checks_with_evidence(list(checks.object_list))
    panels = ui.product_panels(request=request, product=product)
    return {
        "product": product,
        "listings": details,
        "combined": combined,
        "checks": checks,
        "period": period,
        "periods": list(PERIODS),
        "checking": any(item.listing.checking for item in details),
        "paused_all": bool(details) and all(item.listing.paused for item in details),
        "panels": panels,
        "add_form": forms.get("add_form") or ListingAddForm(owner=request.user),
        "rename_form": forms.get("rename_form") or ProductRenameForm(initial={"name": product.name}),
        "priority_choices": Listing._meta.get_field("priority").choices,
    }


@login_required
@require_GET
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_get(owner=request.user, product_id=pk)
    return render(request, "tracker/product.html", _product_context(request, product))


@login_required
@require_POST
def product_add_listing(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_get(owner=request.user, product_id=pk)
    form = ListingAddForm(request.POST, owner=request.user)
    if form.is_valid():
        response = views_add.add_submit(request, form, product=product)
        if response is not None:
            return response
    context = _product_context(request, product, add_form=form)
    return render(request, "tracker/product.html", context, status=400)


@login_required
@require_POST
def product_rename(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_get(owner=request.user, product_id=pk)
    form = ProductRenameForm(request.POST)
    if form.is_valid():
        services.product_rename(product=product, name=form.cleaned_data["name"])
        messages.success(request, "Renamed.")
        return redirect(product)
    context = _product_context(request, product, rename_form=form)
    return render(request, "tracker/product.html", context, status=400)


@login_required
@require_POST
def display_currency(request: HttpRequest) -> HttpResponse:
    form = DisplayCurrencyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a currency from the list.")
        return redirect("tracker:dashboard")
    currency = form.cleaned_data["display_currency"]
    services.display_currency_set(owner=request.user, currency=currency)
    messages.success(request, f"Prices are shown in {currency} too." if currency else "Prices are shown as the shops give them.")
    return redirect("tracker:dashboard")


def _paused_flag(request: HttpRequest) -> bool:
    return request.POST.get("paused", "1") not in ("0", "false", "")


@login_required
@require_POST
def product_pause(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_get(owner=request.user, product_id=pk)
    paused = _paused_flag(request)
    services.product_pause(product=product, paused=paused)
    messages.success(request, "Paused: no scheduled checks." if paused else "Resumed.")
    return redirect(product)


@login_required
@require_http_methods(["GET", "POST"])
def product_delete(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_get(owner=request.user, product_id=pk)
    if request.method == "POST":
        name = product.name
        services.product_delete(product=product)
        messages.success(request, f"Stopped tracking “{name}”.")
        return redirect("tracker:dashboard")
    return render(request, "tracker/confirm_delete.html", {"product": product, "listing": None})


@login_required
@require_POST
def listing_priority(request: HttpRequest, pk: int) -> HttpResponse:
    listing = selectors.listing_get(owner=request.user, listing_id=pk)
    form = ListingPriorityForm(request.POST)
    if form.is_valid():
        services.listing_priority_set(listing=listing, priority=form.cleaned_data["priority"])
        messages.success(request, f"{listing.store}: priority {listing.get_priority_display().lower()}.")
    else:
        messages.error(request, "Unknown priority.")
    return redirect(listing.product)


@login_required
@require_POST
def listing_pause(request: HttpRequest, pk: int) -> HttpResponse:
    listing = selectors.listing_get(owner=request.user, listing_id=pk)
    services.listing_pause(listing=listing, paused=_paused_flag(request))
    messages.success(request, f"{listing.store}: {'paused' if listing.paused else 'resumed'}.")
    return redirect(listing.product)


@login_required
@require_POST
def listing_render(request: HttpRequest, pk: int) -> HttpResponse:
    listing = selectors.listing_get(owner=request.user, listing_id=pk)
    services.listing_render_set(listing=listing, render=request.POST.get("render", "1") not in ("0", "false", ""))
    messages.success(
        request,
        f"{listing.store}: this page is checked in a browser from now on."
        if listing.render_js
        else f"{listing.store}: this page is checked without a browser.",
    )
    return redirect(listing.product)


@login_required
@require_POST
def listing_check_now(request: HttpRequest, pk: int) -> HttpResponse:
    listing = selectors.listing_get(owner=request.user, listing_id=pk)
    if selectors.listing_is_checking(listing=listing):
        messages.info(request, f"{listing.store}: a check is already on its way.")
    else:
        tasks.check_now(listing=listing)
    return redirect(listing.product)


@login_required
@require_http_methods(["GET", "POST"])
def listing_delete(request: HttpRequest, pk: int) -> HttpResponse:
    listing = selectors.listing_get(owner=request.user, listing_id=pk)
    product = listing.product
    if request.method == "POST":
        product_gone = services.listing_delete(listing=listing)
        messages.success(request, f"Stopped tracking {listing.store}.")
        return redirect("tracker:dashboard" if product_gone else product)
    last = not product.listings.exclude(pk=listing.pk).exists()
    return render(
        request, "tracker/confirm_delete.html", {"product": product, "listing": listing, "last": last}
    )


@login_required
@require_GET
def listing_status(request: HttpRequest, pk: int) -> JsonResponse:
    listing = selectors.listing_get(owner=request.user, listing_id=pk)
    response = JsonResponse(selectors.listing_status(listing=listing))
    response["Cache-Control"] = "no-store"
    return response

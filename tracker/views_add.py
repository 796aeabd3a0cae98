"""Adding a page: the add form (also reached from a bookmarklet or a phone's share menu) and
what happens when its first check finds no price. Thin: the rule is services.listing_add_checked."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from . import refusals, services, tasks
from .forms import ProductAddForm
from .models import Product

# A share from a phone may put the page's address in `text`, among other words.
_URL_IN_TEXT = re.compile(r"https?://\S+", re.IGNORECASE)


def shared_url(*, url: str, text: str) -> str:
    """The address a share or bookmarklet sent: `url`, else the first http(s) address in `text`."""
    url = (url or "").strip()
    if url:
        return url
    found = _URL_IN_TEXT.search(text or "")
    return found.group(0).rstrip(").,;!?»\"'") if found else ""


def add_submit(request: HttpRequest, form, *, product: Product | None = None) -> HttpResponse | None:
    """Run the add rule on a valid form. Returns the response (kept: the product page;
    refused: the reason with "keep trying" or "discard"), or None after a form error."""
    data = form.cleaned_data
    try:
        added = services.listing_add_checked(
            owner=request.user,
            url=data["url"],
            name=data.get("name", ""),
            priority=data["priority"],
            product=product,
            keep=data.get("keep", False),
        )
    except services.TrackingError as exc:
        form.add_error("url", str(exc))
        return None
    if added.kept:
        tasks.first_check_follow_up(listing=added.listing, outcome=added.check)
        if not added.priced:
            messages.info(request, "Kept: PriceTracker keeps checking this page on schedule.")
        return redirect(added.listing.product)
    keep_action = (
        reverse("tracker:product_add_listing", args=[product.pk]) if product else reverse("tracker:add")
    )
    context = {
        "form": form,
        "refusal": refusals.refusal_for(outcome=added.check),
        "url": data["url"],
        "keep_action": keep_action,
        "discard_url": product.get_absolute_url() if product else reverse("tracker:dashboard"),
        "product": product,
    }
    return render(request, "tracker/add.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def add(request: HttpRequest) -> HttpResponse:
    """The add form on a page of its own: `/add?url=…` (bookmarklet) or `/add?text=…` (share)."""
    if request.method == "POST":
        form = ProductAddForm(request.POST, owner=request.user)
        if form.is_valid():
            response = add_submit(request, form)
            if response is not None:
                return response
        return render(request, "tracker/add.html", {"form": form}, status=400)
    url = shared_url(url=request.GET.get("url", ""), text=request.GET.get("text", ""))
    form = ProductAddForm(initial={"url": url}, owner=request.user)
    return render(request, "tracker/add.html", {"form": form})


@require_http_methods(["GET"])
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: installable, and a target of the phone's share menu (GET /add)."""
    icon = static("pricetracker/icon-192.png")
    data = {
        "name": "PriceTracker",
        "short_name": "Prices",
        "description": "Track prices of products at shops, and be told of deals.",
        "start_url": reverse("tracker:dashboard"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f7f9",
        "theme_color": "#2563eb",
        "icons": [
            {"src": static("pricetracker/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": icon, "sizes": "192x192", "type": "image/png"},
            {"src": static("pricetracker/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("pricetracker/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
        ],
        # A share sends GET /add?url=…&text=…&title=…; some phones put the address in `text`.
        "share_target": {
            "action": reverse("tracker:add"),
            "method": "GET",
            "params": {"url": "url", "text": "text", "title": "title"},
        },
    }
    response = JsonResponse(data)
    response["Content-Type"] = "application/manifest+json"
    return response


def bookmarklet_for(request: HttpRequest) -> str:
    """A bookmark that opens the add form filled in with the page being looked at."""
    add_url = request.build_absolute_uri(reverse("tracker:add"))
    return f"javascript:(function(){{location.href='{add_url}?url='+encodeURIComponent(location.href)}})()"


@require_http_methods(["GET"])
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says: send them to the static file
    (looked up per request, so the hashed name of collectstatic's manifest is used)."""
    return redirect(static("pricetracker/favicon.ico"), permanent=False)

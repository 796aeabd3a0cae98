"""A person helps with extraction: see what each layer reads on a listing's latest page, pick
the right price (or type a selector), test it and save it.

What a person saves applies to his own listings at the store, and is tested on his own pages
only: nobody sees another person's listing URLs or stored pages here. Staff test on all the
store's pages, save for the store, and promote a person's pattern to the store."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from ..extraction.patterns import FieldRule, PatternSpec, SelectorError, validate_selector
from ..models import Listing, ListingPage
from . import learn, pattern_help, reads, samples


class SelectorForm(forms.Form):
    selector = forms.CharField(max_length=500, strip=True)
    kind = forms.ChoiceField(choices=[("css", "CSS"), ("xpath", "XPath 1.0")], initial="css")
    attribute = forms.CharField(max_length=60, required=False, strip=True,
                                help_text="Read this attribute instead of the text (e.g. content).")

    def clean(self):
        data = super().clean()
        if data.get("selector"):
            try:
                validate_selector(data["selector"], kind=data.get("kind", "css"))
            except SelectorError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data

    def spec(self) -> PatternSpec:
        data = self.cleaned_data
        return PatternSpec(price=FieldRule(selector=data["selector"], kind=data["kind"], attribute=data["attribute"] or None))


def _listing_for(request: HttpRequest, pk: int) -> Listing:
    listing = get_object_or_404(Listing.objects.select_related("store", "product"), pk=pk)
    if listing.product.owner_id != request.user.pk and not request.user.is_staff:
        raise Http404("no such listing")
    return listing


@login_required
def listing_extraction(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what each layer reads and the prices on the page. POST: test or save a selector."""
    listing = _listing_for(request, pk)
    page = ListingPage.objects.filter(listing=listing).first()
    staff = request.user.is_staff
    owner = listing.product.owner
    own = reads.owner_active_pattern(store_id=listing.store_id, owner_id=owner.pk)
    active = own or reads.store_active_pattern(store_id=listing.store_id)
    # Pages a selector is tried on: staff see the store's, everyone else his own.
    sample_owner = None if staff else request.user
    picked = request.GET.get("pick", "")[:500]
    if request.method == "POST":
        form = SelectorForm(request.POST)
    elif picked:
        form = SelectorForm({"selector": picked, "kind": "css", "attribute": ""})
    else:
        form = SelectorForm()
    tested = None
    if picked and request.method == "GET" and form.is_valid():
        tested = pattern_help.spec_try(
            spec=form.spec(), pages=samples.store_sample_pages(store=listing.store, owner=sample_owner)
        )
    if request.method == "POST" and request.POST.get("action") == "promote" and staff and own is not None:
        promoted, problems = learn.pattern_promote(pattern=own)
        if promoted is not None:
            messages.success(request, f"Promoted to {listing.store}'s pattern (version {promoted.version}).")
        else:
            messages.error(request, "Not promoted: " + "; ".join(problems[:5]))
        return redirect("tracker:listing_extraction", pk=listing.pk)
    if request.method == "POST" and form.is_valid():
        spec = form.spec()
        action = request.POST.get("action")
        if action in ("save", "save_store"):
            for_store = action == "save_store" and staff
            saved, problems = learn.pattern_save_person(
                store=listing.store, spec=spec, owner=None if for_store else owner
            )
            if saved is not None:
                whose = f"{listing.store}'s pattern" if for_store else f"the pattern for your listings at {listing.store}"
                messages.success(request, f"Saved as {whose} (version {saved.version}).")
                return redirect("tracker:listing_extraction", pk=listing.pk)
            for problem in problems[:10]:
                form.add_error(None, problem)
        tested = pattern_help.spec_try(
            spec=spec, pages=samples.store_sample_pages(store=listing.store, owner=sample_owner)
        )
    context = {
        "listing": listing,
        "page": page,
        "active": active,
        "own": own,
        "staff": staff,
        "form": form,
        "tested": tested,
        "layers": pattern_help.page_layers(html=page.html, url=page.url, spec=reads.pattern_spec(active)) if page else [],
        "choices": pattern_help.page_price_choices(html=page.html) if page else [],
    }
    return render(request, "tracker/patterns/listing_extraction.html", context)


@login_required
def listing_page_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored page for a sandboxed frame: no scripts run, nothing is loaded from the shop,
    and each price on it is a link that picks it (opens the help page with that selector)."""
    listing = _listing_for(request, pk)
    page = get_object_or_404(ListingPage, listing=listing)
    base = reverse("tracker:listing_extraction", args=[listing.pk])
    html = pattern_help.page_pickable_html(html=page.html, link_for=lambda selector: f"{base}?{urlencode({'pick': selector})}")
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = (
        "sandbox allow-top-navigation-by-user-activation; default-src 'none'; style-src 'unsafe-inline'"
    )
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def product_panel_context(request: HttpRequest, product) -> dict:
    """For the product page's extraction panel (registered in TrackerConfig.ready)."""
    return {"extraction_listings": list(product.listings.select_related("store"))}

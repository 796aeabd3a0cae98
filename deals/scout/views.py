"""Deal scout pages: deals, watches, sources. Thin: forms in, services called."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import tasks
from ..models import DealListing, DealSource, Watch
from . import selectors
from .forms import DealFilterForm, DealSourceForm, WatchForm


@login_required
def deal_list(request):
    form = DealFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    deals = selectors.deals_for(
        owner=request.user,
        watch_id=filters.get("watch"),
        source_id=filters.get("source"),
        min_score=filters.get("min_score"),
        max_price=filters.get("max_price"),
        condition=filters.get("condition") or None,
        max_age_days=filters.get("max_age_days"),
        sort=filters.get("sort") or "score",
    )[:200]
    deals = selectors.deals_explain(deals)
    watches = Watch.objects.filter(owner=request.user)
    sources = selectors.sources_visible_to(request.user)
    return render(
        request,
        "scout/deals.html",
        {
            "form": form,
            "deals": deals,
            "watches": watches,
            "sources": sources,
            "listings_seen": DealListing.objects.filter(
                source__in=sources, status=DealListing.Status.ACTIVE
            ).count() if not deals else None,
        },
    )


@login_required
def watch_list(request):
    form = WatchForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        watch = form.save(commit=False)
        watch.owner = request.user
        watch.save()
        tasks.enqueue_watch_match(watch_id=watch.pk)
        messages.success(request, f"Watching for “{watch.query}”; matching it against the items already seen.")
        return redirect("scout:watches")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "scout/watches.html", {"form": form, "watches": Watch.objects.filter(owner=request.user)}, status=status
    )


@login_required
def watch_edit(request, pk: int):
    watch = get_object_or_404(Watch, pk=pk, owner=request.user)
    form = WatchForm(request.POST or None, instance=watch, owner=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        tasks.enqueue_watch_match(watch_id=watch.pk)
        messages.success(request, f"Watch “{watch}” saved; its matches are being brought up to date.")
        return redirect("scout:watches")
    status = 400 if request.method == "POST" else 200
    return render(request, "scout/watch_edit.html", {"form": form, "watch": watch}, status=status)


@login_required
@require_POST
def watch_delete(request, pk: int):
    get_object_or_404(Watch, pk=pk, owner=request.user).delete()
    messages.success(request, "Watch removed.")
    return redirect("scout:watches")


@login_required
def source_list(request):
    form = DealSourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        source = form.save(commit=False)
        source.owner = request.user
        source.save()
        tasks.scan_source.delay_on_commit(source.pk)
        messages.success(request, f"Source “{source.name}” added; the first scan is on its way.")
        return redirect("scout:sources")
    return render(
        request, "scout/sources.html", {"form": form, "sources": selectors.sources_visible_to(request.user)}
    )


@login_required
@require_POST
def source_scan_now(request, pk: int):
    source = get_object_or_404(selectors.sources_visible_to(request.user), pk=pk)
    tasks.scan_source.delay_on_commit(source.pk)
    messages.success(request, f"Scanning “{source.name}” now.")
    return redirect("scout:sources")


@login_required
@require_POST
def source_delete(request, pk: int):
    get_object_or_404(DealSource, pk=pk, owner=request.user).delete()
    messages.success(request, "Source removed.")
    return redirect("scout:sources")

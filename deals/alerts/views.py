"""Pages for alerts: rules per product, the deals feed, quiet hours.

Thin: load what belongs to the person, call one service, show its errors.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracker.models import Product

from .. import tasks
from ..models import AlertRule, NotificationSettings
from . import evaluation as alerts
from .forms import NotificationSettingsForm, RuleForm


@login_required
def feed(request):
    return render(request, "deals/feed.html", {"events": alerts.deals_feed(owner=request.user, limit=100)})


@login_required
def rules(request, product_id: int):
    product = get_object_or_404(Product, pk=product_id, owner=request.user)
    form = RuleForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        rule = form.save(commit=False)
        rule.product = product
        alerts.rule_save(rule=rule)
        tasks.enqueue_rule_judgement(rule=rule)
        messages.success(request, "Rule added. It is judged against the current price now, then on every check.")
        return redirect("deals:rules", product_id=product.pk)
    context = {
        "product": product,
        "rules": product.alert_rules.select_related("store"),
        "form": form,
        "quality": alerts.product_quality(product=product),
    }
    return render(request, "deals/rules.html", context)


@login_required
@require_POST
def rule_toggle(request, pk: int):
    rule = get_object_or_404(AlertRule, pk=pk, product__owner=request.user)
    rule.enabled = not rule.enabled
    alerts.rule_save(rule=rule)
    tasks.enqueue_rule_judgement(rule=rule)
    return redirect("deals:rules", product_id=rule.product_id)


@login_required
@require_POST
def rule_delete(request, pk: int):
    rule = get_object_or_404(AlertRule, pk=pk, product__owner=request.user)
    product_id = rule.product_id
    rule.delete()
    messages.success(request, "Rule deleted.")
    return redirect("deals:rules", product_id=product_id)


@login_required
def settings_view(request):
    prefs, _ = NotificationSettings.objects.get_or_create(user=request.user)
    form = NotificationSettingsForm(request.POST or None, instance=prefs)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Quiet hours saved.")
        return redirect("deals:settings")
    return render(request, "deals/settings.html", {"form": form})

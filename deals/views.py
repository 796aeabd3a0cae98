"""Pages for alerts: rules per product, channels, notifications, the deals feed, quiet hours.

Thin: load what belongs to the person, call one service, show its errors.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracker.models import Product

from . import alerts, tasks
from .channels import ChannelError, channel_add, channel_set_target, channel_test
from .delivery import notification_retry
from .forms import ChannelForm, NotificationSettingsForm, RuleForm
from .models import AlertRule, Channel, Notification, NotificationSettings


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
        messages.success(request, "Rule added. It is judged from the next price check on.")
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
def channels(request):
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            channel = channel_add(
                owner=request.user, name=data["name"], kind=data["kind"], url=data["url"],
                email_to=data["email_to"] or "", mode=data["mode"],
            )
        except ChannelError as exc:
            form.add_error("url" if data["kind"] == Channel.Kind.APPRISE else "email_to", str(exc))
        else:
            messages.success(request, f"Channel “{channel.name}” added. Send a test to make sure it works.")
            return redirect("deals:channels")
    owned = Channel.objects.filter(owner=request.user)
    return render(request, "deals/channels.html", {"channels": owned, "form": form})


@login_required
def channel_edit(request, pk: int):
    channel = get_object_or_404(Channel, pk=pk, owner=request.user)
    initial = {"name": channel.name, "kind": channel.kind, "email_to": channel.email_to, "mode": channel.mode, "enabled": channel.enabled}
    form = ChannelForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        channel.name, channel.kind, channel.mode, channel.enabled = data["name"], data["kind"], data["mode"], data["enabled"]
        try:
            channel_set_target(channel=channel, url=data["url"], email_to=data["email_to"] or "")
            if channel.kind == Channel.Kind.APPRISE and not channel.url_encrypted:
                raise ChannelError("enter the channel's Apprise URL")
        except ChannelError as exc:
            form.add_error("url" if data["kind"] == Channel.Kind.APPRISE else "email_to", str(exc))
        else:
            channel.save()
            messages.success(request, "Channel saved.")
            return redirect("deals:channels")
    return render(request, "deals/channel_edit.html", {"channel": channel, "form": form})


@login_required
@require_POST
def channel_test_view(request, pk: int):
    channel = get_object_or_404(Channel, pk=pk, owner=request.user)
    ok, error = channel_test(channel=channel)
    if ok:
        messages.success(request, f"Test sent to “{channel.name}”.")
    else:
        messages.error(request, f"Test to “{channel.name}” failed: {error}")
    return redirect("deals:channels")


@login_required
@require_POST
def channel_delete(request, pk: int):
    channel = get_object_or_404(Channel, pk=pk, owner=request.user)
    channel.delete()
    messages.success(request, "Channel deleted.")
    return redirect("deals:channels")


@login_required
def notifications(request):
    status = request.GET.get("status", "")
    rows = Notification.objects.filter(channel__owner=request.user).select_related(
        "channel", "event", "event__product", "event__listing__store"
    )
    if status in Notification.Status.values:
        rows = rows.filter(status=status)
    return render(
        request,
        "deals/notifications.html",
        {"notifications": rows.order_by("-created_at")[:200], "status": status, "statuses": Notification.Status.choices},
    )


@login_required
@require_POST
def notification_retry_view(request, pk: int):
    notification = notification_retry(notification_id=pk, owner=request.user)
    if notification is None:
        messages.error(request, "Only a failed notification can be sent again.")
    else:
        if not notification.digest:
            tasks.enqueue_delivery(notification_id=notification.pk)
        messages.success(request, "Sending it again.")
    return redirect("deals:notifications")


@login_required
def settings_view(request):
    prefs, _ = NotificationSettings.objects.get_or_create(user=request.user)
    form = NotificationSettingsForm(request.POST or None, instance=prefs)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Quiet hours saved.")
        return redirect("deals:settings")
    return render(request, "deals/settings.html", {"form": form})

"""Pages for notifications: channels (add, edit, test, delete) and the outbox with its retry button.

Thin: load what belongs to the person, call one service, show its errors.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import tasks
from ..models import Channel, Notification
from .channels import ChannelError, channel_add, channel_set_target, channel_test
from .delivery import notification_retry
from .forms import ChannelForm


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

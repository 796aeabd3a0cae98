from django.contrib import admin, messages
from django.utils.html import format_html

from . import services
from .models import Invitation


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "state", "created_at", "expires_at", "used_by")
    readonly_fields = ("state", "created_by", "created_at", "expires_at", "used_at", "used_by")
    search_fields = ("email", "note")
    actions = ("link_make",)

    def _show_link(self, request, invitation: Invitation) -> None:
        link = services.invitation_link_make(invitation=invitation, base_url=request.build_absolute_uri("/"))
        messages.success(
            request,
            format_html(
                "Sign-up link for {} (shown only now, works once): <code class=\"invite-link\">{}</code>",
                invitation, link,
            ),
        )

    def save_model(self, request, obj, form, change):
        is_new = obj.pk is None
        if is_new:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if is_new:
            self._show_link(request, obj)

    @admin.action(description="Make a new one-time sign-up link (the old one stops working)")
    def link_make(self, request, queryset):
        for invitation in queryset:
            if invitation.used_at:
                messages.warning(request, f"{invitation}: used already, no new link.")
                continue
            self._show_link(request, invitation)

"""An invitation: a one-time link staff make in the admin so a person can sign up."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Invitation(models.Model):
    email = models.EmailField(blank=True, help_text="Filled in on the sign-up form; the person may change it.")
    note = models.CharField(max_length=200, blank=True, help_text="Who it is for, for your own records.")
    # Only a hash is kept: the link is shown once, when it is made, and cannot be read back.
    token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email or self.note or f"Invitation {self.pk}"

    @property
    def state(self) -> str:
        if self.used_at:
            return "used"
        if not self.token_hash:
            return "no link yet"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "open"

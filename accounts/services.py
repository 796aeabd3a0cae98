"""People: making accounts and invitations. Entry points (command, admin, views) call these."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import Invitation


class AccountError(Exception):
    """The account cannot be made; the message is fit to show the person."""


class InvitationInvalid(Exception):
    """The link is unknown, used or expired."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_create(*, username: str, email: str = "", password: str):
    """An ordinary (not staff) account. Refuses a taken name or a weak password; not safe to
    run twice by design: a second run finds the name taken and says so."""
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        raise AccountError("a user name is needed")
    candidate = User(username=username, email=(email or "").strip())
    try:
        candidate.full_clean(exclude=["password"])
        validate_password(password, candidate)
    except ValidationError as exc:
        raise AccountError(" ".join(exc.messages)) from None
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise AccountError(f'the user name "{username}" is taken')
        return User.objects.create_user(username=username, email=candidate.email, password=password)


def invitation_link_make(*, invitation: Invitation, base_url: str | None = None) -> str:
    """A new one-time sign-up link for the invitation (an older link stops working).

    Returns the full link; only its hash is stored, so it is shown once.
    """
    if invitation.used_at:
        raise AccountError("this invitation was used already")
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _token_hash(token)
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_DAYS)
    invitation.save(update_fields=["token_hash", "expires_at"])
    path = reverse("accounts:invitation", args=[token])
    return f"{(base_url or settings.SITE_URL).rstrip('/')}{path}"


def invitation_find(*, token: str) -> Invitation:
    """The open invitation a link stands for, or InvitationInvalid."""
    invitation = Invitation.objects.filter(token_hash=_token_hash(token or "")).first()
    if invitation is None or invitation.state != "open":
        raise InvitationInvalid()
    return invitation


def invitation_accept(*, token: str, username: str, email: str, password: str):
    """Make the account an invitation stands for and use the invitation up.

    Safe to run twice: the invitation is taken with a conditional UPDATE inside the same
    transaction as the new account, so one link makes at most one account.
    """
    invitation = invitation_find(token=token)
    with transaction.atomic():
        user = user_create(username=username, email=email, password=password)
        taken = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(
            used_at=timezone.now(), used_by=user
        )
        if not taken:
            raise InvitationInvalid()
    return user

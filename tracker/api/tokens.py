"""API tokens: made, checked and revoked here. The token itself is shown once, at creation;
only its SHA-256 is stored (a random 256-bit secret needs no slow hash: nothing to guess)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from ..models import ApiToken

TOKEN_PREFIX = "pt_"
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(*, owner, name: str = "") -> tuple[ApiToken, str]:
    """A new token for `owner`: the stored row and the secret to show once."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        owner=owner, name=(name or "").strip()[:100], key_hash=_digest(secret), prefix=secret[:10]
    )
    return token, secret


def token_revoke(*, owner, token_id: int) -> bool:
    """Delete one of the person's tokens; False when there was none. Safe to run twice."""
    deleted, _ = ApiToken.objects.filter(owner=owner, pk=token_id).delete()
    return bool(deleted)


def tokens_for(*, owner):
    return ApiToken.objects.filter(owner=owner)


def token_authenticate(*, secret: str) -> ApiToken | None:
    """The live token a request carries, with its active owner; None for anything else."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("owner").filter(key_hash=_digest(secret), owner__is_active=True).first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def user_by_name(*, username: str):
    """The account a command names, or DoesNotExist."""
    return get_user_model().objects.get(username=username)

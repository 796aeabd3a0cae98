"""Secrets kept in the database: encrypted at rest (Fernet), redacted from any text.

One key for every secret of the project: `CHANNEL_ENCRYPTION_KEY` (comma-separated for
rotation: the first encrypts, all decrypt), or a key derived from SECRET_KEY when it is not
set. It encrypts notification channel URLs (deals) and store proxy URLs (tracker).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

MASK = "****"


class SecretError(Exception):
    """A stored secret cannot be read (the key changed?)."""


def _as_fernet_key(material: str) -> bytes:
    raw = material.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (ValueError, TypeError):
        pass
    # The salt names channel URLs because they were the first secret: changing it would make
    # every secret already stored unreadable.
    return base64.urlsafe_b64encode(hashlib.sha256(b"pricetracker-channel-url:" + raw).digest())


def _fernet() -> MultiFernet:
    keys = [k for k in (getattr(settings, "CHANNEL_ENCRYPTION_KEY", "") or "").split(",") if k.strip()]
    if not keys:
        keys = [settings.SECRET_KEY]
    return MultiFernet([Fernet(_as_fernet_key(k)) for k in keys])


def secret_encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def secret_decrypt(token: str, *, what: str = "the secret") -> str:
    """`token` decrypted; SecretError names `what` when no key reads it."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretError(f"{what} cannot be decrypted (was CHANNEL_ENCRYPTION_KEY or SECRET_KEY changed?)") from exc


def text_redact(text: str, secrets: list[str]) -> str:
    """`text` with every secret (longest first) replaced by the mask."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text

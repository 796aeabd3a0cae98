"""Channel secrets: encrypted at rest (Fernet), masked for display, redacted from any text.

The key is `CHANNEL_ENCRYPTION_KEY` (comma-separated for rotation: the first encrypts, all
decrypt), or derived from SECRET_KEY when that is not set.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qsl, unquote, urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

MASK = "****"
_MIN_SECRET_LEN = 4


class SecretError(Exception):
    """A stored secret cannot be read (the key changed?)."""


def _as_fernet_key(material: str) -> bytes:
    raw = material.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (ValueError, TypeError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(b"pricetracker-channel-url:" + raw).digest())


def _fernet() -> MultiFernet:
    keys = [k for k in (getattr(settings, "CHANNEL_ENCRYPTION_KEY", "") or "").split(",") if k.strip()]
    if not keys:
        keys = [settings.SECRET_KEY]
    return MultiFernet([Fernet(_as_fernet_key(k)) for k in keys])


def secret_encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretError("the channel's address cannot be decrypted (was the key changed?)") from exc


def url_secret_parts(url: str) -> list[str]:
    """Every piece of a channel URL that may be a secret: user, password, path segments,
    query values, and the host part unless it is a plain host name (services such as
    Telegram keep their token there)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    candidates = [url, url.partition("://")[2]]
    if len(netloc) == 2:
        user, _, password = netloc[0].partition(":")
        candidates += [netloc[0], user, password, unquote(user), unquote(password)]
    host_port = netloc[-1]
    if _mask_hint(parts.hostname or "") == MASK or not _is_plain_host(parts.hostname or ""):
        candidates += [host_port, *host_port.split(":")]
    for segment in parts.path.split("/"):
        candidates += [segment, unquote(segment)]
    for _key, value in parse_qsl(parts.query, keep_blank_values=False):
        candidates.append(value)
    found = {c for c in candidates if c and len(c) >= _MIN_SECRET_LEN}
    return sorted(found, key=len, reverse=True)


def _is_plain_host(host: str) -> bool:
    return bool(host) and "." in host and not re.search(r"\d{6,}|[A-Za-z0-9_-]{24,}", host)


def _mask_hint(host: str) -> str:
    return host if _is_plain_host(host) else MASK


def url_mask(url: str) -> str:
    """What a person sees of a channel URL: the kind of service and a hint, never a secret."""
    parts = urlsplit(url)
    return f"{parts.scheme or '?'}://{_mask_hint(parts.hostname or '')}/{MASK}"


def text_redact(text: str, secrets: list[str]) -> str:
    """`text` with every secret (longest first) replaced by the mask."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text

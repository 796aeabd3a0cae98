"""Channel secrets: encrypted at rest (Fernet, `tracker.crypto`), masked for display, redacted
from any text.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

from tracker.crypto import MASK, SecretError, secret_encrypt, text_redact
from tracker.crypto import secret_decrypt as _secret_decrypt

__all__ = ["MASK", "SecretError", "secret_decrypt", "secret_encrypt", "text_redact", "url_mask", "url_secret_parts"]

_MIN_SECRET_LEN = 4


def secret_decrypt(token: str) -> str:
    return _secret_decrypt(token, what="the channel's address")


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

"""Proxies for shops that block us: one per store, set by staff, and a default (FETCH_PROXY_URL).

A store's proxy URL (`http://`, `https://`, `socks5://` or `socks5h://`, with a port, and a
user and password when the proxy wants them) is stored encrypted (`tracker.crypto`), shown
masked, and redacted from every error. Every request to the store goes through it: pages,
robots.txt, and every request of a page rendered in the browser (the browser's requests are
made by the gate, so Chromium never talks to the proxy and SOCKS5 with a password works there
too).

The proxy does not loosen the address policy: the gate resolves the page's host here and
refuses it as it would without a proxy; then it asks the proxy for the checked address
(CONNECT for https, the address itself through SOCKS), so the proxy cannot be steered
elsewhere by a second lookup. Only a plain `http://` page through an HTTP proxy is named to
the proxy (the shop needs its name in the request line, and many proxies allow CONNECT to port
443 only), after the same check: there the proxy resolves the name again, so a name whose
answer changes between the two lookups reaches what the proxy can reach. A SOCKS5 proxy has no
such gap. The proxy's own address is staff's choice and is not checked: a proxy on the local
network is normal.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from django.conf import settings

from ..crypto import MASK, SecretError, secret_decrypt, secret_encrypt, text_redact
from .results import FetchError

if TYPE_CHECKING:  # the gate imports this module: it loads no models
    from ..models import Store

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


def proxy_url_validate(url: str) -> str:
    """`url` stripped, or ValueError saying what is wrong (never repeating the URL: it may
    hold a password)."""
    url = (url or "").strip()
    if _CONTROL_OR_SPACE.search(url):
        raise ValueError("the proxy address contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("the proxy address cannot be read (is the port a number?)") from None
    if parts.scheme.lower() not in PROXY_SCHEMES or not url[len(parts.scheme) :].startswith("://"):
        raise ValueError("the proxy address must start with http://, https://, socks5:// or socks5h://")
    if not parts.hostname:
        raise ValueError("the proxy address has no host")
    if port is None or port == 0:
        raise ValueError("the proxy address needs a port (e.g. :8080 or :1080)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("the proxy address is only scheme://[user:password@]host:port")
    return url


def proxy_mask(url: str) -> str:
    """What staff and logs see of a proxy: its kind, host and port, never the credentials."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    auth = f"{MASK}@" if "@" in parts.netloc else ""
    return f"{parts.scheme}://{auth}{host}{port}"


def proxy_redact(text: str, url: str) -> str:
    """`text` without the proxy's URL, user or password."""
    netloc = urlsplit(url).netloc
    userinfo = netloc.rpartition("@")[0] if "@" in netloc else ""
    user, _, password = userinfo.partition(":")
    secrets = [url, userinfo, user, password, unquote(user), unquote(password)]
    # A one- or two-letter secret would mask ordinary words; the whole URL still goes.
    return text_redact(text, [s for s in secrets if len(s) >= 3])


def proxy_url_encrypt(url: str) -> str:
    """What `Store.proxy_url_encrypted` holds for `url` (validated; "" for no proxy)."""
    url = proxy_url_validate(url) if url.strip() else ""
    return secret_encrypt(url) if url else ""


def store_proxy_set(*, store: Store, url: str) -> None:
    """Give `store` its own proxy (`url` validated, stored encrypted) or, with "", none.

    Safe to run twice: it writes the same value.
    """
    store.proxy_url_encrypted = proxy_url_encrypt(url)
    type(store).objects.filter(pk=store.pk).update(proxy_url_encrypted=store.proxy_url_encrypted)


def store_proxy_shown(store: Store) -> str:
    """The store's own proxy, masked for display ("" when it has none)."""
    if not store.proxy_url_encrypted:
        return ""
    try:
        return proxy_mask(secret_decrypt(store.proxy_url_encrypted, what="the store's proxy"))
    except SecretError:
        return "(unreadable: set it again)"


def store_proxy(store: Store) -> str | None:
    """The proxy URL every request to `store` goes through, or None for a direct connection.

    The store's own proxy, else the default (FETCH_PROXY_URL) unless the store is set to go
    direct. A proxy that cannot be decrypted or read raises FetchError (kind "proxy"): the
    store is not fetched directly behind staff's back.
    """
    if store.proxy_url_encrypted:
        try:
            url = secret_decrypt(store.proxy_url_encrypted, what="the store's proxy")
        except SecretError as exc:
            raise FetchError(f"{exc}; staff must set it again", kind="proxy") from exc
        source = "the store's proxy"
    elif settings.FETCH_PROXY_URL and not store.proxy_direct:
        url, source = settings.FETCH_PROXY_URL, "FETCH_PROXY_URL"
    else:
        return None
    try:
        return proxy_url_validate(url)
    except ValueError as exc:
        raise FetchError(f"{source} is not usable: {exc}", kind="proxy") from exc


def proxy_failure(exc: BaseException, proxy: str) -> FetchError:
    """The FetchError for a request that failed on its way through `proxy`: names the proxy
    (masked) and the innermost cause, with the credentials redacted."""
    cause = _innermost(exc)
    text = re.sub(r"<[^>]*>:?\s*", "", str(cause)).strip(" :") or cause.__class__.__name__
    text = proxy_redact(text, proxy)[:200]
    if isinstance(cause, OSError) and type(cause).__module__ in ("builtins", "socket"):
        # A bare socket error: through a proxy our only socket is the one to the proxy.
        message = f"the proxy {proxy_mask(proxy)} could not be reached: {text}"
    else:
        message = f"could not reach the shop through the proxy {proxy_mask(proxy)}: {text}"
    return FetchError(message, kind="proxy", transient=True)


def _innermost(exc: BaseException) -> BaseException:
    seen = {id(exc)}
    current = exc
    while True:
        candidates = (
            current.args[0] if current.args else None,
            getattr(current, "reason", None),
            getattr(current, "original_error", None),
            current.__cause__,
            current.__context__,
        )
        following = next((c for c in candidates if isinstance(c, BaseException) and id(c) not in seen), None)
        if following is None:
            return current
        seen.add(id(following))
        current = following

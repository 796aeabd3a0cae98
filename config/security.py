"""Request security wired into the settings: the client's address, login throttling
(django-axes plus two limits of our own) and rate limits (django-ratelimit) on every view.

The client's address is REMOTE_ADDR, unless that peer is one of TRUSTED_PROXIES: then
X-Forwarded-For is read from the right, skipping trusted proxies, and the first address not
trusted is the client's. A forged X-Forwarded-For from anyone else is ignored. The rate
limiter, axes (AXES_CLIENT_IP_CALLABLE) and the log lines here all use `client_ip`.

Every view is rate limited (probes and scrapes excepted), per signed-in user or per address,
counted by django-ratelimit in the default cache (set CACHE_URL to share counts between web
processes). When that cache is down, requests go through with a logged warning, never a 500.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
from django_ratelimit.core import is_ratelimited

log = logging.getLogger(__name__)

# Probes and scrapes are never limited: they come often and from few addresses.
EXEMPT_VIEWS = {"metrics:health", "metrics:health_detailed", "metrics:prometheus"}
LOGIN_VIEWS = {"login", "admin:login"}


def rate_parse(text: str) -> tuple[int, int]:
    """'20/60' → (20 requests, per 60 seconds)."""
    try:
        count, _, seconds = text.partition("/")
        parsed = int(count), int(seconds or 60)
    except ValueError as exc:
        raise ImproperlyConfigured(f"a rate limit looks like 20/60 (count/seconds), got {text!r}") from exc
    if parsed[0] < 1 or parsed[1] < 1:
        raise ImproperlyConfigured(f"a rate limit must be positive, got {text!r}")
    return parsed


def _ratelimit_rate(text: str) -> str:
    count, seconds = rate_parse(text)
    return f"{count}/{seconds}s"


# --- The client's address ----------------------------------------------------------------------


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().split("%", 1)[0])
    except ValueError:
        return False
    return any(ip in network for network in getattr(settings, "TRUSTED_PROXIES", []))


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or from X-Forwarded-For when the peer is trusted."""
    peer = request.META.get("REMOTE_ADDR", "") or ""
    if not _trusted(peer):
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage where an address should be: keep the proxy's
    return hops[0] if hops else peer


def _client(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u{user.pk}"
    return f"ip{client_ip(request)}"


def _ratelimit_key(group, request) -> str:
    return _client(request)


def _ratelimit_ip(group, request) -> str:
    return client_ip(request)


# --- Rate limits on every view -------------------------------------------------------------------


def _limited(request, *, group: str, key, rate: str) -> bool:
    """Count this request; True when over the limit. Fails open when the cache is down."""
    try:
        return is_ratelimited(request, group=group, key=key, rate=_ratelimit_rate(rate), increment=True)
    except Exception as exc:  # noqa: BLE001 - any cache failure (Redis down, timeouts) lets the request through
        log.warning("rate limit not counted, the cache is unavailable: %s", exc)
        return False


def _too_many(rate: str, message: str = "too many requests, try again shortly") -> HttpResponse:
    _, period = rate_parse(rate)
    response = JsonResponse({"error": message}, status=429)
    response["Retry-After"] = str(period)
    return response


class RateLimitMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request.client_ip = client_ip(request)  # for the access log and anything else that logs it
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.RATELIMIT_ENABLED or request.path.startswith("/api/"):
            return None  # the REST API limits per token itself (tracker/api/auth.py)
        view = request.resolver_match.view_name if request.resolver_match else ""
        if view in EXEMPT_VIEWS:
            return None
        if view in LOGIN_VIEWS and request.method == "POST":
            if _limited(request, group="login", key=_ratelimit_ip, rate=settings.RATELIMIT_LOGIN):
                return _too_many(settings.RATELIMIT_LOGIN)
            refusal = login_refusal(request)
            if refusal:
                return refusal
        if _limited(request, group="views", key=_ratelimit_key, rate=settings.RATELIMIT_VIEWS):
            return _too_many(settings.RATELIMIT_VIEWS)
        return None


# --- Login: distinct usernames per address, failed logins overall -------------------------------


def _window(period: int) -> int:
    return int(time.time() // period)


def _usernames_key(ip: str, period: int) -> str:
    return f"login-users:{ip}:{_window(period)}"


def _failures_key(period: int) -> str:
    return f"login-failures:{_window(period)}"


def login_refusal(request) -> HttpResponse | None:
    """429 when this address has tried too many distinct usernames, or the whole site has seen
    too many failed logins, in the current window. Fails open when the cache is down."""
    ip = client_ip(request)
    try:
        limit, period = rate_parse(settings.LOGIN_USERNAMES_PER_ADDRESS)
        tried = cache.get(_usernames_key(ip, period)) or set()
        if len(tried) >= limit:
            log.warning("login refused: too many usernames from one address", extra={"client_ip": ip})
            return _too_many(settings.LOGIN_USERNAMES_PER_ADDRESS, "too many accounts tried from this address")
        overall, overall_period = rate_parse(settings.LOGIN_FAILURES_OVERALL)
        if (cache.get(_failures_key(overall_period)) or 0) >= overall:
            log.warning("login refused: too many failed logins overall", extra={"client_ip": ip})
            return _too_many(settings.LOGIN_FAILURES_OVERALL, "too many failed sign-ins, try again later")
    except ImproperlyConfigured:
        raise
    except Exception as exc:  # noqa: BLE001 - the cache is down: let the request through
        log.warning("login limits not checked, the cache is unavailable: %s", exc)
    return None


@receiver(user_login_failed, dispatch_uid="config.security.login_failed")
def _count_failed_login(sender, credentials=None, request=None, **kwargs) -> None:
    if request is None:
        return
    ip = client_ip(request)
    username = str((credentials or {}).get("username", ""))
    digest = hashlib.sha256(username.lower().encode()).hexdigest()[:16]  # no usernames in the cache
    tried: set[str] = set()
    try:
        _, period = rate_parse(settings.LOGIN_USERNAMES_PER_ADDRESS)
        key = _usernames_key(ip, period)
        tried = cache.get(key) or set()
        tried.add(digest)
        cache.set(key, tried, timeout=period + 1)
        _, overall_period = rate_parse(settings.LOGIN_FAILURES_OVERALL)
        failures = _failures_key(overall_period)
        if not cache.add(failures, 1, timeout=overall_period + 1):
            cache.incr(failures)
    except Exception as exc:  # noqa: BLE001 - the cache is down: nothing counted, nothing broken
        log.warning("failed login not counted, the cache is unavailable: %s", exc)
    log.info("login failed", extra={"client_ip": ip, "usernames_tried": len(tried)})


class AxesHttpOnlyBackend(AxesStandaloneBackend):
    """django-axes for logins that come with a request (the login form, the admin).

    A sign-in without a request (the test client, a management command) has no address to
    throttle, so it is passed on to the next backend instead of being refused.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

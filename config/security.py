"""Request security wired into the settings: login throttling (django-axes) and rate limits.

Rate limits are a small fixed-window limiter on the login form and on JSON endpoints. Counts live in the default cache (set CACHE_URL to share them between web processes).
JSON endpoints are recognised by their answers: a view that has answered with JSON is
limited from then on, so new JSON views are covered without being listed anywhere.
"""

from __future__ import annotations

import logging
import time

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse

# Probes and scrapes are never limited: they come often and from few addresses.
EXEMPT_VIEWS = {"metrics:health", "metrics:health_detailed", "metrics:prometheus"}
LOGIN_VIEWS = {"login", "admin:login"}

_json_views: set[str] = set()
log = logging.getLogger(__name__)


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


def rate_hit(*, scope: str, ident: str, rate: str, now: float | None = None) -> bool:
    """Count one request; True when it is over the limit for its window."""
    limit, period = rate_parse(rate)
    window = int((now if now is not None else time.time()) // period)
    key = f"rl:{scope}:{ident}:{window}"
    try:
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=period + 1)
            count = 1
    except Exception as exc:  # the cache (Redis) is down: let the request through, never a 500
        log.warning("rate limit not counted, the cache is unavailable: %s", exc)
        return False
    return count > limit


def _client(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u{user.pk}"
    return f"ip{request.META.get('REMOTE_ADDR', '')}"


def _too_many(rate: str) -> JsonResponse:
    _, period = rate_parse(rate)
    response = JsonResponse({"error": "too many requests, try again shortly"}, status=429)
    response["Retry-After"] = str(period)
    return response


class RateLimitMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        view = getattr(getattr(request, "resolver_match", None), "view_name", "") or ""
        if (
            view
            and view not in EXEMPT_VIEWS
            and view not in _json_views
            and response.get("Content-Type", "").startswith("application/json")
        ):
            _json_views.add(view)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.RATELIMIT_ENABLED or request.path.startswith("/api/"):
            return None  # the REST API limits per token itself (config/api.py)
        view = request.resolver_match.view_name if request.resolver_match else ""
        if view in LOGIN_VIEWS and request.method == "POST":
            ident = f"ip{request.META.get('REMOTE_ADDR', '')}"
            if rate_hit(scope="login", ident=ident, rate=settings.RATELIMIT_LOGIN):
                return _too_many(settings.RATELIMIT_LOGIN)
        elif view in _json_views:
            if rate_hit(scope="json", ident=_client(request), rate=settings.RATELIMIT_JSON):
                return _too_many(settings.RATELIMIT_JSON)
        return None


class AxesHttpOnlyBackend(AxesStandaloneBackend):
    """django-axes for logins that come with a request (the login form, the admin).

    A sign-in without a request (the test client, a management command) has no address to
    throttle, so it is passed on to the next backend instead of being refused.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

"""Bearer-token authentication and the per-token rate limit of the API."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.throttling import AuthRateThrottle

from .tokens import token_authenticate

log = logging.getLogger(__name__)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer pt_…`; the request's user becomes the token's owner."""

    def authenticate(self, request: HttpRequest, token: str):
        found = token_authenticate(secret=token)
        if found is None:
            return None
        request.user = found.owner
        return found


class TokenRateThrottle(AuthRateThrottle):
    """Counts per token (per address before authentication) in Django's cache, so the limit
    holds across web processes when the cache is shared (CACHE_URL). The rate is read per
    request, so a changed setting applies without a restart."""

    def allow_request(self, request: HttpRequest) -> bool:
        if not settings.RATELIMIT_ENABLED:
            return True
        self.rate = settings.API_RATELIMIT
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request)
        except Exception as exc:  # the cache (Redis) is down: let the request through, never a 500
            log.warning("API rate limit not counted, the cache is unavailable: %s", exc)
            return True

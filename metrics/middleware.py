"""Per-request context and counts: the X-Request-ID, the user id for logs, web metrics."""

from __future__ import annotations

import logging
import os
import time

from . import instruments
from .context import request_id_accept, request_id_var, user_id_var

REQUEST_ID_HEADER = "X-Request-ID"
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# One line per request, with its request id (the formatter adds it and the user id): the
# access log. gunicorn's own access log is off by default, so each request is logged once.
access_log = logging.getLogger("pricetracker.access")


class RequestMiddleware:
    """First in the chain: takes or makes the request id, times and counts the request."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_accept(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        # Set, not reset afterwards: Django logs a failed response after the middleware
        # returns, and that line should carry the id too. The next request sets its own.
        request_id_var.set(request_id)
        user_id_var.set("")
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unmatched"
        method = request.method if request.method in _METHODS else "other"
        instruments.HTTP_REQUESTS.labels(method=method, view=view, status=str(response.status_code)).inc()
        instruments.HTTP_LATENCY.labels(method=method, view=view).observe(elapsed)
        response[REQUEST_ID_HEADER] = request_id
        # The path without its query string: a query may carry a token.
        access_log.info(
            "%s %s %s %.0fms", request.method, request.path, response.status_code, elapsed * 1000,
            extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1), "view": view, "pid": os.getpid(),
                # The client's address from a trusted proxy (config/security.py), else the peer's.
                "remote_addr": getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR", ""),
            },
        )
        return response


class UserContextMiddleware:
    """After authentication: the signed-in user's id goes into the logs and queued tasks."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            user_id_var.set(str(user.pk))
        return self.get_response(request)

"""Per-request context and counts: the X-Request-ID, the user id for logs, web metrics."""

from __future__ import annotations

import time

from . import instruments
from .context import request_id_accept, request_id_var, user_id_var

REQUEST_ID_HEADER = "X-Request-ID"
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


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

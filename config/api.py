"""The REST API v1: one NinjaAPI with the tracker and deals routers, bearer tokens, a per-token
rate limit, and errors as JSON `{"message": ...}`. OpenAPI 3 at /api/v1/openapi.json, docs
at /api/v1/docs."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from deals.api import router as deals_router
from tracker.api.auth import TokenAuth, TokenRateThrottle
from tracker.api.routes import router as tracker_router

api = NinjaAPI(
    title="PriceTracker API",
    version="1",
    description="Send `Authorization: Bearer TOKEN` (make a token under Settings → API tokens, "
    "or `manage.py api_token USERNAME`). Errors are JSON: `{\"message\": ...}`.",
    urls_namespace="api",
    auth=TokenAuth(),
    throttle=TokenRateThrottle(),
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def _error(request: HttpRequest, status: int, message: str, errors: list | None = None):
    body: dict = {"message": message}
    if errors is not None:
        body["errors"] = errors
    response = api.create_response(request, body, status=status)
    return response


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError):
    response = _error(request, 401, "a valid API token is needed: Authorization: Bearer TOKEN")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404):
    return _error(request, 404, "not found")


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled):
    response = _error(request, 429, "too many requests, try again shortly")
    if exc.wait:
        response["Retry-After"] = str(int(exc.wait) + 1)
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError):
    errors = [{"loc": [str(part) for part in item.get("loc", ())], "msg": str(item.get("msg", ""))} for item in exc.errors]
    return _error(request, 422, "the request is not valid", errors)


api.add_router("/", tracker_router)
api.add_router("/", deals_router)

"""Health probes, the Prometheus scrape, and the staff pages (dashboard, quality)."""

from __future__ import annotations

import base64
import hmac

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import charts, objectives, selectors
from .health import health_detailed, health_probe
from .instruments import metrics_exposition

PERIODS = (1, 7, 30)


@never_cache
@require_GET
def health(request):
    """Liveness for probes: 200 when the database and the broker answer, 503 otherwise."""
    probes = health_probe()
    ok = all(p.ok for p in probes)
    body = {"status": "ok" if ok else "down", "checks": {p.name: p.as_dict() for p in probes}}
    return JsonResponse(body, status=200 if ok else 503)


@never_cache
@require_GET
def health_detailed_view(request):
    """Every dependency with latency and state; 503 when a required one is down.

    It names workers, queues, the data folder and free disk: for staff and for monitors with
    the metrics credentials (as /metrics), never for anyone who asks.
    """
    allowed = _scrape_allowed(request)
    if allowed != 200:
        return _refused(allowed, realm="health")
    probes = health_detailed()
    down = [p.name for p in probes if not p.ok and p.required]
    degraded = [p.name for p in probes if not p.ok and not p.required]
    status = "down" if down else "degraded" if degraded else "ok"
    body = {"status": status, "checks": {p.name: p.as_dict() for p in probes}}
    return JsonResponse(body, status=503 if down else 200)


def _scrape_allowed(request) -> int:
    """200 when allowed, 401 when credentials are missing, 403 when they are wrong."""
    header = request.headers.get("Authorization", "")
    if request.user.is_authenticated and request.user.is_staff:
        return 200
    if not header:
        return 401
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and settings.METRICS_TOKEN:
        return 200 if hmac.compare_digest(credentials.strip(), settings.METRICS_TOKEN) else 403
    if scheme.lower() == "basic" and settings.METRICS_BASIC_AUTH:
        try:
            given = base64.b64decode(credentials.strip(), validate=True).decode()
        except ValueError:
            return 403
        return 200 if hmac.compare_digest(given, settings.METRICS_BASIC_AUTH) else 403
    return 403


def _refused(allowed: int, *, realm: str) -> HttpResponse:
    response = HttpResponse(
        "credentials required\n" if allowed == 401 else "forbidden\n",
        status=allowed,
        content_type="text/plain",
    )
    if allowed == 401:
        response["WWW-Authenticate"] = f'Bearer realm="{realm}"' if settings.METRICS_TOKEN else f'Basic realm="{realm}"'
    return response


@never_cache
@require_GET
def prometheus(request):
    """The Prometheus scrape (text format), for a bearer token, basic auth or staff."""
    allowed = _scrape_allowed(request)
    if allowed != 200:
        return _refused(allowed, realm="metrics")
    return HttpResponse(metrics_exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")


def _days(request) -> int:
    try:
        days = int(request.GET.get("days", 7))
    except ValueError:
        days = 7
    return min(max(days, 1), 90)


def _short(iso: str, bucket: str) -> str:
    return iso[11:16] if bucket == "hour" else iso[5:10]


NARROW_CHART_WIDTH = 380  # drawn again for phones, so its labels stay readable (not 760 shrunk)


def _wide_and_narrow(draw, **kwargs) -> str:
    """One chart drawn twice; the stylesheet shows the wide one or, on a phone, the narrow one."""
    return (
        f'<div class="wide">{draw(**kwargs)}</div>'
        f'<div class="narrow">{draw(**kwargs, width=NARROW_CHART_WIDTH)}</div>'
    )


def _dashboard_charts(figures: dict) -> dict[str, str]:
    bucket = figures["bucket"]
    checks = figures["checks"]
    out = {
        "checks": _wide_and_narrow(
            charts.bar_chart_svg,
            labels=[_short(row["t"], bucket) for row in checks],
            series={o: [row[o] for row in checks] for o in selectors.FINISHED_OUTCOMES},
            title=f"Checks per {bucket} by outcome",
        ),
        "stores": _wide_and_narrow(
            charts.rate_bars_svg,
            rows=[
                (row["store"], row["rate"], f"{row['rate']:.0%} of {row['total']}" if row["rate"] is not None else "-")
                for row in figures["stores"]
            ],
            title="Success rate per store",
        ),
    }
    durations = figures["check_duration_ms"]["per_day"]
    out["durations"] = _wide_and_narrow(
        charts.bar_chart_svg,
        labels=[_short(row["t"], "day") for row in durations],
        series={"p50": [row["p50"] for row in durations], "p95": [row["p95"] for row in durations]},
        title="Check duration per day (ms)",
        stacked=False,
        unit="",
    )
    if figures["notifications"] is not None:
        rows = figures["notifications"]
        out["notifications"] = _wide_and_narrow(
            charts.bar_chart_svg,
            labels=[_short(row["t"], "day") for row in rows],
            series={k: [row[k] for row in rows] for k in ("sent", "failed", "pending")},
            title="Notifications per day",
        )
    if figures["deals"] is not None:
        rows = figures["deals"]
        keys = [k for k in rows[0] if k != "t"] if rows else []
        out["deals"] = _wide_and_narrow(
            charts.bar_chart_svg,
            labels=[_short(row["t"], "day") for row in rows],
            series={k: [row[k] for row in rows] for k in keys},
            title="Deals found per day",
        )
    return {name: mark_safe(svg) for name, svg in out.items()}  # noqa: S308 (escaped in charts)


@staff_member_required
@require_GET
def dashboard(request):
    days = _days(request)
    figures = selectors.dashboard_figures(days=days)
    return render(
        request,
        "metrics/dashboard.html",
        {"figures": figures, "charts": _dashboard_charts(figures), "days": days, "periods": PERIODS},
    )


@staff_member_required
@require_GET
def api(request):
    """The dashboard's figures as JSON (`?days=7`)."""
    return JsonResponse(selectors.dashboard_figures(days=_days(request)))


@staff_member_required
@require_GET
def quality_view(request):
    evaluated = objectives.objectives_evaluate()
    if request.GET.get("format") == "json":
        return JsonResponse({"objectives": [o.as_dict() for o in evaluated]})
    return render(
        request,
        "metrics/quality.html",
        {"objectives": evaluated, "window_hours": settings.QUALITY_WINDOW_HOURS},
    )

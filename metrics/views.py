from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import health_probe


@never_cache
@require_GET
def health(request):
    """Liveness for probes: 200 when the database and the broker answer, 503 otherwise."""
    probes = health_probe()
    ok = all(p.ok for p in probes)
    body = {"status": "ok" if ok else "down", "checks": {p.name: p.as_dict() for p in probes}}
    return JsonResponse(body, status=200 if ok else 503)

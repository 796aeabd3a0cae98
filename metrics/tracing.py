"""OpenTelemetry tracing of Django, requests and Celery, exported over OTLP/HTTP.

Only when OTEL_EXPORTER_OTLP_ENDPOINT is set. Otherwise nothing is imported and nothing runs:
the opentelemetry packages are imported inside `tracing_setup`, after that check.
"""

from __future__ import annotations

import logging
import os

from django.conf import settings

log = logging.getLogger(__name__)

_done_in_pid: set[int] = set()


def tracing_enabled() -> bool:
    return bool(settings.OTEL_EXPORTER_OTLP_ENDPOINT)


def tracing_setup(*, role: str) -> bool:
    """Start tracing in this process (once per process). Returns whether tracing is on."""
    if not tracing_enabled():
        return False
    if os.getpid() in _done_in_pid:
        return True
    # Imported here: a process without an endpoint never pays for loading OpenTelemetry.
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        # A forked worker child keeps its parent's provider (the SDK restarts its export
        # thread after fork); only a process without one makes it.
        provider = TracerProvider(
            resource=Resource.create({"service.name": settings.OTEL_SERVICE_NAME, "service.role": role})
        )
        # The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and headers) from the environment.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
    if not DjangoInstrumentor().is_instrumented_by_opentelemetry:
        DjangoInstrumentor().instrument()
    if not RequestsInstrumentor().is_instrumented_by_opentelemetry:
        RequestsInstrumentor().instrument()
    if not CeleryInstrumentor().is_instrumented_by_opentelemetry:
        CeleryInstrumentor().instrument()
    _done_in_pid.add(os.getpid())
    log.info("tracing on", extra={"endpoint": settings.OTEL_EXPORTER_OTLP_ENDPOINT, "role": role})
    return True

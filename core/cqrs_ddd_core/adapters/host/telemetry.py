"""`start_telemetry`: a service process's traces and metrics, set up from the ``OTEL_*`` variables.

Off by default: nothing is set up - not even the HTTP middleware - unless
``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set and
``OTEL_SDK_DISABLED`` is not ``true``. Then spans and metrics go there over OTLP/HTTP
(protobuf), as ``service.name`` = the service's name unless ``OTEL_SERVICE_NAME`` says
otherwise. Everything else is the SDK's own reading of the standard variables:
``OTEL_BSP_SCHEDULE_DELAY``, ``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_METRIC_EXPORT_INTERVAL``...; ``OTEL_METRICS_EXPORTER=none`` keeps metrics at
``GET /metrics`` only, for a backend that takes traces alone (Jaeger). The thing to notice: the
core's spans and metrics are switched on by handing them these providers (`tracing.install`,
`metrics.install`), and they are also made the process's global ones, for any other library's
instrumentation.
Guide: docs/patterns/observability.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cqrs_ddd_core.observability import metrics, tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


@dataclass
class Telemetry:
    """The providers of one process; `shutdown` flushes what is still buffered."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def shutdown(self) -> None:
        tracing.uninstall()
        metrics.uninstall()
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def telemetry_wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for export (an OTLP endpoint, and the SDK not disabled)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(environ.get(name) for name in ENDPOINT_VARIABLES)


def start_telemetry(service_name: str, environ: Mapping[str, str] = os.environ) -> Telemetry | None:
    """Export this process's spans and metrics over OTLP/HTTP, or ``None`` when not asked to."""
    if not telemetry_wanted(environ):
        return None
    # Imported here: a service that does not export never loads the SDK.
    from opentelemetry import metrics as otel_metrics
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES itself; the
    # attributes given here would override them, so the name is given only as the default.
    named = {} if environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    resource = Resource.create(named)
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    readers = metrics.scrape_readers()  # GET /metrics
    if environ.get("OTEL_METRICS_EXPORTER", "otlp").strip().lower() != "none":
        # "none" for a backend that takes traces only (Jaeger): metrics stay at /metrics.
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    trace.set_tracer_provider(tracer_provider)
    otel_metrics.set_meter_provider(meter_provider)
    tracing.install(tracer_provider)
    metrics.install(meter_provider)
    return Telemetry(tracer_provider, meter_provider)

"""The operational routes every service exposes, whatever its domain.

``GET /health`` answers 200 when the service's database and broker answer, 503 otherwise, so a
load balancer or ``docker compose`` can tell a live replica from a cut-off one.
``GET /notifications`` shows what the service told customers lately (its `NotificationLog`).
Both take their data from dependencies the service's ``create_app`` provides:
``check_health`` and ``notification_feed``. ``GET /metrics`` - the core's metrics in
Prometheus' text format - is served only while telemetry is on (`observability.metrics`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency

from cqrs_ddd_core.observability.metrics import prometheus_text

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
"""Returns ``{"status": "ok" | "unavailable", <check>: bool, ...}``."""


@get("/health", summary="Database and broker reachable")
async def health(check_health: NamedDependency[HealthCheck]) -> Response[dict[str, Any]]:
    report = await check_health()
    return Response(report, status_code=200 if report["status"] == "ok" else 503)


@get("/notifications", summary="What customers were told lately (newest last)")
async def notifications(
    notification_feed: NamedDependency[Sequence[dict[str, Any]]],
) -> list[dict[str, Any]]:
    return list(notification_feed)


@get("/metrics", summary="The service's metrics, in Prometheus' text format", sync_to_thread=False)
def metrics() -> Response[bytes]:
    scraped = prometheus_text()
    if scraped is None:
        return Response(b"metrics are off: set OTEL_EXPORTER_OTLP_ENDPOINT\n", status_code=404)
    body, content_type = scraped
    return Response(body, media_type=content_type)

"""The operational routes every service exposes, whatever its domain.

The probes an orchestrator asks, no token needed:

* ``GET /health/live`` - 200 whenever the process answers at all. Restart the replica when it
  stops answering; never for what its neighbours are doing (a database outage would otherwise
  restart every replica at once).
* ``GET /health/ready`` - 200 when the replica can do its work: its database takes a write, its
  broker link is up, its outbox relay is not stuck; otherwise 503 with a body naming what
  failed (``"failed": {"database": "took no write within 2.0s"}``), so a load balancer sends
  traffic elsewhere until it recovers. ``GET /health`` is the same probe, under its old name.

``GET /notifications`` shows what the service told customers lately (its `NotificationLog`):
every customer's, so only an operator may read it.
Both take their data from dependencies the service's ``create_app`` provides:
``check_health`` and ``notification_feed``. ``GET /metrics`` - the core's metrics in
Prometheus' text format - is served only while telemetry is on (`observability.metrics`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from cqrs_ddd_core.adapters.litestar.auth import Caller
from cqrs_ddd_core.adapters.litestar.paging import (
    DEFAULT_PAGE,
    PageCursor,
    PageLimit,
    decode_cursor,
    page,
)
from cqrs_ddd_core.cqrs.publishers.notifications import NotificationLog
from cqrs_ddd_core.observability.metrics import prometheus_text

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
"""Returns ``{"status": "ok" | "unavailable", <check>: bool, ..., "failed": {...}}``."""


@get("/health/live", summary="The process answers (restart it when this fails)")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@get(
    ["/health/ready", "/health"],
    summary="Database takes a write, broker link up, relay not stuck (503 names what failed)",
)
async def ready(check_health: NamedDependency[HealthCheck]) -> Response[dict[str, Any]]:
    report = await check_health()
    return Response(report, status_code=200 if report["status"] == "ok" else 503)


@get("/notifications", summary="What customers were told lately (oldest first), a page at a time")
async def notifications(
    request: Request[Any, Any, Any],
    notification_feed: NamedDependency[NotificationLog],
    actor: Caller,
    limit: PageLimit = DEFAULT_PAGE,
    cursor: PageCursor = None,
) -> Response[list[Any]]:
    actor.require_operator("read the notifications")
    after = decode_cursor(cursor, _position)
    rows = notification_feed.page(after=after, limit=limit + 1)
    return page(request, rows, limit, key=lambda row: (str(row[0]),), dump=lambda row: row[1])


def _position(key: list[str]) -> int:
    [position] = key  # a ValueError for a key of another length, or not a number
    return int(position)


@get("/metrics", summary="The service's metrics, in Prometheus' text format", sync_to_thread=False)
def metrics() -> Response[bytes]:
    scraped = prometheus_text()
    if scraped is None:
        return Response(b"metrics are off: set OTEL_EXPORTER_OTLP_ENDPOINT\n", status_code=404)
    body, content_type = scraped
    return Response(body, media_type=content_type)

"""The operational routes every service exposes, whatever its domain.

The probes an orchestrator asks, no token needed:

* ``GET /health/live`` - 200 whenever the process answers at all. Restart the replica when it
  stops answering; never for what its neighbours are doing (a database outage would otherwise
  restart every replica at once).
* ``GET /health/ready`` - 200 when the replica can do its work: its database takes a write, its
  broker link is up, its outbox relay is not stuck; otherwise 503 with a body naming what
  failed (``"failed": {"database": "took no write within 2.0s"}``), so a load balancer sends
  traffic elsewhere until it recovers. ``GET /health`` is the same probe, under its old name.

``GET /notifications`` shows what the service told customers lately (its `NotificationLog`).
Both take their data from dependencies the service's ``create_app`` provides:
``check_health`` and ``notification_feed``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency

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


@get("/notifications", summary="What customers were told lately (newest last)")
async def notifications(
    notification_feed: NamedDependency[Sequence[dict[str, Any]]],
) -> list[dict[str, Any]]:
    return list(notification_feed)

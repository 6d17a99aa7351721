"""The operational routes every service exposes, whatever its domain.

``GET /health`` answers 200 when the service's database and broker answer, 503 otherwise, so a
load balancer or ``docker compose`` can tell a live replica from a cut-off one.
``GET /notifications`` shows what the service told customers lately (its `NotificationLog`).
Both take their data from dependencies the service's ``create_app`` provides:
``check_health`` and ``notification_feed``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from cqrs_ddd_core.adapters.litestar.paging import (
    DEFAULT_PAGE,
    PageCursor,
    PageLimit,
    decode_cursor,
    page,
)
from cqrs_ddd_core.cqrs.publishers.notifications import NotificationLog

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
"""Returns ``{"status": "ok" | "unavailable", <check>: bool, ...}``."""


@get("/health", summary="Database and broker reachable")
async def health(check_health: NamedDependency[HealthCheck]) -> Response[dict[str, Any]]:
    report = await check_health()
    return Response(report, status_code=200 if report["status"] == "ok" else 503)


@get("/notifications", summary="What customers were told lately (oldest first), a page at a time")
async def notifications(
    request: Request[Any, Any, Any],
    notification_feed: NamedDependency[NotificationLog],
    limit: PageLimit = DEFAULT_PAGE,
    cursor: PageCursor = None,
) -> Response[list[Any]]:
    after = decode_cursor(cursor, _position)
    rows = notification_feed.page(after=after, limit=limit + 1)
    return page(request, rows, limit, key=lambda row: (str(row[0]),), dump=lambda row: row[1])


def _position(key: list[str]) -> int:
    [position] = key  # a ValueError for a key of another length, or not a number
    return int(position)

"""The order summaries' repositories: a status change is written alone, and never invents a row.

`OrderSummaryProjection` moves a summary's status with ``set_status`` - one UPDATE, no read of
the row first - so both repositories must change the status and nothing else, and refuse an
order that has no summary (`NotFoundError`), as ``get`` does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cqrs_ddd_core.primitives.exceptions import NotFoundError
from ordering_service import bootstrap as ordering
from ordering_service.application.ports import OrderSummary
from tests.services.databases import empty_database
from tests.tokens import TEST_AUTH_SECRET

PLACED = OrderSummary(
    order_id="order-1",
    customer_id="alice",
    status="PENDING",
    total=Decimal("28.20"),
    item_count=3,
    placed_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """The kind of storage, and for PostgreSQL the server (a session fixture, set up here)."""
    if request.param == "postgres":
        return "postgres", str(request.getfixturevalue("postgres_url"))
    return request.param, None


@pytest.fixture
async def uow_factory(database: tuple[str, str | None], tmp_path: Path) -> AsyncIterator[Any]:
    kind, server = database
    if kind == "memory":
        settings = ordering.OrderingSettings(auth_secret=TEST_AUTH_SECRET, database_url="memory")
        yield ordering.build(settings).storage.uow_factory
        return
    async with empty_database(kind, server, tmp_path) as url:
        settings = ordering.OrderingSettings(auth_secret=TEST_AUTH_SECRET, database_url=url)
        service = ordering.build(settings)
        await service.storage.migrate()
        try:
            yield service.storage.uow_factory
        finally:
            await service.storage.close()


async def test_set_status_changes_the_status_and_nothing_else(uow_factory: Any) -> None:
    async with uow_factory() as uow:
        await uow.order_summaries.save(PLACED)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.order_summaries.set_status("order-1", "CONFIRMED")
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.order_summaries.get("order-1")
    assert stored == OrderSummary(**{**PLACED.__dict__, "status": "CONFIRMED"})


async def test_set_status_of_an_order_without_a_summary_is_not_found(uow_factory: Any) -> None:
    async with uow_factory() as uow:
        with pytest.raises(NotFoundError, match="order-404"):
            await uow.order_summaries.set_status("order-404", "CONFIRMED")

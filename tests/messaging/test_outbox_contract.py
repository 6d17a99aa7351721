"""The `IOutboxStorage` contract on the in-memory storage (the SQL storages run the same suite)."""

from __future__ import annotations

import pytest

from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from tests.messaging.contracts import Backend, OutboxStorageContract
from tests.messaging.support import OffsetClock


@pytest.fixture(params=["memory"])
def outbox_backend(request: pytest.FixtureRequest, outbox_clock: OffsetClock) -> Backend:
    assert request.param == "memory"
    return InMemoryOutboxStorage(clock=outbox_clock), InMemoryUnitOfWork


class TestInMemoryOutboxStorage(OutboxStorageContract):
    pass

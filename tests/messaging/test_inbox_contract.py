"""The `IInboxStorage` contract on the in-memory storage (the SQL storages run the same suite)."""

from __future__ import annotations

import pytest

from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
from tests.messaging.contracts import Backend, InboxStorageContract
from tests.messaging.support import OffsetClock


@pytest.fixture(params=["memory"])
def inbox_backend(request: pytest.FixtureRequest, outbox_clock: OffsetClock) -> Backend:
    assert request.param == "memory"
    store = InMemoryStore()
    return InMemoryInboxStorage(store, clock=outbox_clock), lambda: InMemoryUnitOfWork(store)


class TestInMemoryInboxStorage(InboxStorageContract):
    pass

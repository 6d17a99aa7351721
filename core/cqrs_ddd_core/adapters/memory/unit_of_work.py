"""`InMemoryUnitOfWork`: a real transaction over plain dictionaries.

Writes are *staged* in the unit of work and applied to the shared `InMemoryStore` only on
commit, in one step with no ``await`` in between - so a rollback (or an exception) really
leaves nothing behind, and you can see the pattern without a database. Values are copied in
and out, so mutating a loaded aggregate changes nothing until it is saved and committed.
Optimistic concurrency: a save of a stale version fails the commit with `ConcurrencyError`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError, NotFoundError

A = TypeVar("A", bound=AggregateRoot)

_DELETED = object()


@dataclass
class _Record:
    value: Any
    version: int


class InMemoryStore:
    """Committed state shared by every unit of work of one service: collections of records."""

    def __init__(self) -> None:
        self.collections: dict[str, dict[str, _Record]] = {}

    def committed(self, collection: str, key: str) -> _Record | None:
        return self.collections.get(collection, {}).get(key)

    def keys(self, collection: str) -> list[str]:
        return list(self.collections.get(collection, {}))


@dataclass
class _Write:
    value: Any
    expected_version: int | None
    """The version the writer read; ``None`` for an insert that must not exist yet."""
    new: bool = False


@dataclass
class _Staged:
    writes: dict[tuple[str, str], _Write] = field(default_factory=dict)
    actions: list[Callable[[], None]] = field(default_factory=list)


class InMemoryUnitOfWork(UnitOfWork):
    """A unit of work over an `InMemoryStore` (a fresh private store when none is given)."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        super().__init__()
        self.store = store if store is not None else InMemoryStore()
        self._staged = _Staged()

    # --- reading and writing -------------------------------------------------------------

    def get(self, collection: str, key: str) -> tuple[Any, int] | None:
        """The value and version as this unit of work sees it (its own writes included)."""
        write = self._staged.writes.get((collection, key))
        if write is not None:
            if write.value is _DELETED:
                return None
            return copy.deepcopy(write.value), (write.expected_version or 0)
        record = self.store.committed(collection, key)
        if record is None:
            return None
        return copy.deepcopy(record.value), record.version

    def insert(self, collection: str, key: str, value: Any) -> None:
        """Stage a new record; the commit fails if the key exists by then."""
        self._require_active("write through")
        self._staged.writes[(collection, key)] = _Write(_snapshot(value), None, new=True)

    def update(self, collection: str, key: str, value: Any, expected_version: int) -> None:
        """Stage a new value for a record read at ``expected_version``."""
        self._require_active("write through")
        previous = self._staged.writes.get((collection, key))
        if previous is not None and previous.new:
            self._staged.writes[(collection, key)] = _Write(_snapshot(value), None, new=True)
            return
        self._staged.writes[(collection, key)] = _Write(_snapshot(value), expected_version)

    def delete(self, collection: str, key: str, expected_version: int) -> None:
        self._require_active("write through")
        self._staged.writes[(collection, key)] = _Write(_DELETED, expected_version)

    def keys(self, collection: str) -> list[str]:
        """Every key of ``collection`` as this unit of work sees it."""
        keys = dict.fromkeys(self.store.keys(collection))
        for (name, key), write in self._staged.writes.items():
            if name != collection:
                continue
            if write.value is _DELETED:
                keys.pop(key, None)
            else:
                keys[key] = None
        return list(keys)

    # --8<-- [start:stage]
    def stage(self, action: Callable[[], None]) -> None:
        """Apply ``action`` as part of the commit (an outbox row, an inbox entry, ...)."""
        self._require_active("stage an action in")
        self._staged.actions.append(action)
        # --8<-- [end:stage]

    # --- the transaction -----------------------------------------------------------------

    # --8<-- [start:commit]
    async def _commit(self) -> None:
        # Check everything first, then apply everything: no await, so no one sees half.
        for (collection, key), write in self._staged.writes.items():
            record = self.store.committed(collection, key)
            if write.new and record is not None:
                raise ConcurrencyError(collection, key, expected_version=0)
            if not write.new and (record is None or record.version != write.expected_version):
                expected = write.expected_version or 0
                raise ConcurrencyError(collection, key, expected_version=expected)
        for (collection, key), write in self._staged.writes.items():
            table = self.store.collections.setdefault(collection, {})
            if write.value is _DELETED:
                table.pop(key, None)
            else:
                version = 1 if write.new else (write.expected_version or 0) + 1
                table[key] = _Record(write.value, version)
        for action in self._staged.actions:
            action()

    async def _rollback(self) -> None:
        self._staged = _Staged()

    async def _begin_savepoint(self) -> _Staged:
        return _Staged(dict(self._staged.writes), list(self._staged.actions))

    async def _rollback_to_savepoint(self, marker: Any) -> None:
        self._staged = marker

    async def _release_savepoint(self, marker: Any) -> None:
        return None
        # --8<-- [end:commit]


def _snapshot(value: Any) -> Any:
    """A private copy to store; an aggregate's pending events belong to the handler, not here."""
    snapshot = copy.deepcopy(value)
    if isinstance(snapshot, AggregateRoot):
        snapshot.clear_events()
    return snapshot


class InMemoryRepository(Generic[A]):
    """Aggregates of one kind, read and written through an `InMemoryUnitOfWork`.

    The repository remembers the version each aggregate was loaded at, so saving a stale
    copy fails the commit instead of overwriting someone else's change.
    """

    def __init__(self, uow: InMemoryUnitOfWork, collection: str) -> None:
        self._uow = uow
        self._collection = collection

    async def add(self, aggregate: A) -> None:
        self._uow.insert(self._collection, aggregate.id, aggregate)

    async def get(self, aggregate_id: str) -> A:
        found = await self.find(aggregate_id)
        if found is None:
            raise NotFoundError(self._collection, aggregate_id)
        return found

    async def find(self, aggregate_id: str) -> A | None:
        loaded = self._uow.get(self._collection, aggregate_id)
        if loaded is None:
            return None
        aggregate, version = loaded
        aggregate.version = version
        return aggregate  # type: ignore[no-any-return]

    async def save(self, aggregate: A) -> None:
        """Stage the aggregate's new state; pending events are not stored with it."""
        self._uow.update(self._collection, aggregate.id, aggregate, aggregate.version)

    async def list(self) -> list[A]:
        found = [await self.find(key) for key in self._uow.keys(self._collection)]
        return [aggregate for aggregate in found if aggregate is not None]

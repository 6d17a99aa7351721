"""`UnitOfWork`: one transaction around everything a root command does.

Life of a unit of work: entered once, then committed or rolled back exactly once. Leaving the
``async with`` block without a commit rolls back - uncommitted work is never kept by accident.
``on_commit`` callbacks (waking the outbox relay, for example) run only after a successful
commit, so nothing leaves the process before the data it describes is durable.
``on_close`` callbacks run once the unit of work ends either way: locks are released there,
so no other command can read what this one is writing before it is committed.
``savepoint()`` lets a nested command fail without taking its parent's work with it.
Guide: docs/components/mediator.md.
"""

from __future__ import annotations

import inspect
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from enum import Enum
from types import TracebackType
from typing import Any, Self

from cqrs_ddd_core.primitives.exceptions import UnitOfWorkError

logger = logging.getLogger(__name__)

CommitCallback = Callable[[], Awaitable[None] | None]


class UnitOfWorkState(Enum):
    NEW = "new"
    ACTIVE = "active"
    COMMITTED = "committed"
    ROLLED_BACK = "rolled_back"


class UnitOfWork(ABC):
    """Base class of units of work. Adapters implement the ``_`` hooks."""

    def __init__(self) -> None:
        self._state = UnitOfWorkState.NEW
        self._on_commit: list[CommitCallback] = []
        self._on_close: list[CommitCallback] = []
        self.read_only = False
        """Set before entering when the work only reads (the mediator does, for a query): an
        adapter may then take a cheaper transaction - on SQLite, one without the write lock."""

    @property
    def state(self) -> UnitOfWorkState:
        return self._state

    @property
    def is_active(self) -> bool:
        return self._state is UnitOfWorkState.ACTIVE

    # --8<-- [start:lifecycle]
    async def __aenter__(self) -> Self:
        if self._state is not UnitOfWorkState.NEW:
            raise UnitOfWorkError(
                f"{type(self).__name__} was already used ({self._state.value}); "
                f"create a new unit of work for each root command"
            )
        await self._begin()
        self._state = UnitOfWorkState.ACTIVE
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._state is UnitOfWorkState.ACTIVE:
                await self.rollback()
        finally:
            if self._on_close:  # most units of work have none: no new list for them
                callbacks, self._on_close = self._on_close, []
                for callback in reversed(callbacks):
                    await _run_callback(callback)

    async def commit(self) -> None:
        """Make every change durable, then run the ``on_commit`` callbacks."""
        self._require_active("commit")
        try:
            await self._commit()
        except BaseException:
            await self.rollback()
            raise
        self._state = UnitOfWorkState.COMMITTED
        if self._on_commit:
            callbacks, self._on_commit = self._on_commit, []
            for callback in callbacks:
                await _run_callback(callback)

    async def rollback(self) -> None:
        """Discard every change; pending ``on_commit`` callbacks are dropped."""
        if self._state is not UnitOfWorkState.ACTIVE:
            return
        self._state = UnitOfWorkState.ROLLED_BACK
        self._on_commit.clear()
        await self._rollback()
        # --8<-- [end:lifecycle]

    # --8<-- [start:callbacks]
    def on_commit(self, callback: CommitCallback) -> None:
        """Run ``callback`` after a successful commit (never after a rollback)."""
        self._require_active("register an on_commit callback on")
        self._on_commit.append(callback)

    def on_close(self, callback: CommitCallback) -> None:
        """Run ``callback`` when the unit of work ends, after its commit or rollback."""
        self._require_active("register an on_close callback on")
        self._on_close.append(callback)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction: an exception inside undoes only what happened inside."""
        self._require_active("open a savepoint in")
        callbacks_before = len(self._on_commit)
        marker = await self._begin_savepoint()
        try:
            yield
        except BaseException:
            if self.is_active:
                await self._rollback_to_savepoint(marker)
                del self._on_commit[callbacks_before:]
            raise
        else:
            await self._release_savepoint(marker)
            # --8<-- [end:callbacks]

    def _require_active(self, action: str) -> None:
        if self._state is not UnitOfWorkState.ACTIVE:
            raise UnitOfWorkError(
                f"Cannot {action} a unit of work that is {self._state.value}; it is "
                f"only usable inside its root command"
            )

    # --- what an adapter implements ------------------------------------------------------

    # --8<-- [start:adapter-hooks]
    async def _begin(self) -> None:  # noqa: B027 - optional hook
        """Start the transaction (optional: many backends begin lazily)."""

    @abstractmethod
    async def _commit(self) -> None: ...

    @abstractmethod
    async def _rollback(self) -> None: ...

    @abstractmethod
    async def _begin_savepoint(self) -> Any: ...

    @abstractmethod
    async def _rollback_to_savepoint(self, marker: Any) -> None: ...

    @abstractmethod
    async def _release_savepoint(self, marker: Any) -> None: ...

    # --8<-- [end:adapter-hooks]


async def _run_callback(callback: CommitCallback) -> None:
    # The transaction has ended already: a failing callback must not change its outcome.
    try:
        result = callback()
        if inspect.isawaitable(result):
            await result
    except Exception:
        logger.exception("unit of work callback %r failed after the transaction ended", callback)

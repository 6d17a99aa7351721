"""`SqlAlchemyUnitOfWork`: one database transaction around everything a root command does.

One `AsyncSession` per root command, exposed as ``.session``: the repositories, the outbox
and the inbox all write through it, so the order row and its outbox row commit together or
not at all. A nested command runs in ``session.begin_nested()`` (a SAVEPOINT): its failure
undoes only its own writes. The thing to notice: nothing here commits on its own - the mediator
commits the root once, and ``on_commit`` callbacks run only after that commit succeeded.

A query's unit of work (``read_only``) reads a snapshot without taking SQLite's write lock.
A service subclasses it to expose its repositories (``uow.orders``).
Scenario: features/core/unit_of_work.feature. Guide: docs/components/unit-of-work.md.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    AsyncSessionTransaction,
    async_sessionmaker,
)

from cqrs_ddd_core.adapters.sqlalchemy.engine import read_only as read_only_engine
from cqrs_ddd_core.cqrs.scope import get_current_uow
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.exceptions import UnitOfWorkError


class SqlAlchemyUnitOfWork(UnitOfWork):
    """A unit of work over one `AsyncSession` from ``session_factory``."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self._session_factory = session_factory
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The session of this unit of work: every read and write of the command goes here."""
        if self._session is None or not self.is_active:
            raise UnitOfWorkError(
                f"{type(self).__name__} has no open session ({self.state.value}); use it "
                f"inside 'async with uow:' - that is, inside a command or query handler"
            )
        return self._session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await super().__aexit__(exc_type, exc, traceback)
        finally:
            # Give the connection back to the pool whatever happened.
            if self._session is not None:
                await self._session.close()

    async def _begin(self) -> None:
        # The session begins its transaction lazily, on the first statement: a query that
        # never touches the database never takes a connection.
        bind = self._session_factory.kw.get("bind")
        if self.read_only and isinstance(bind, AsyncEngine):
            # A query: a snapshot that does not queue behind writers (see `read_only_engine`).
            self._session = self._session_factory(bind=read_only_engine(bind))
        else:
            self._session = self._session_factory()

    async def _commit(self) -> None:
        await self.session.commit()

    async def _rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()

    async def _begin_savepoint(self) -> AsyncSessionTransaction | None:
        if not self.session.in_transaction():
            # Nothing happened yet, so rolling back to here is rolling back everything: no
            # need to open the transaction now. Opening it would take the database (on SQLite,
            # its write lock) before the nested command has taken its resource locks - the
            # opposite order to a root command's, and a deadlock between the two.
            return None
        return await self.session.begin_nested()

    async def _rollback_to_savepoint(self, marker: Any) -> None:
        savepoint: AsyncSessionTransaction | None = marker
        if savepoint is None:
            await self.session.rollback()
        else:
            await savepoint.rollback()

    async def _release_savepoint(self, marker: Any) -> None:
        savepoint: AsyncSessionTransaction | None = marker
        if savepoint is not None:
            await savepoint.commit()


def session_for(uow: UnitOfWork | None, engine: AsyncEngine, user: str) -> AsyncSession | None:
    """The session to write in: ``uow``'s, else the current unit of work's, else ``None``.

    For the storages (outbox, inbox) that join the caller's transaction. ``engine`` is the
    storage's own: a unit of work on another database could not commit atomically with it.
    """
    uow = uow if uow is not None else get_current_uow()
    if uow is None:
        return None
    if not isinstance(uow, SqlAlchemyUnitOfWork):
        raise TypeError(
            f"{user} writes in the transaction of a SqlAlchemyUnitOfWork, got "
            f"{type(uow).__name__}; build the mediator with a SqlAlchemyUnitOfWork factory, "
            f"or use the in-memory storage with the in-memory unit of work"
        )
    session = uow.session
    bind_url = session.get_bind().engine.url
    if bind_url != engine.url:
        raise ValueError(
            f"{user} stores in {engine.url.render_as_string()}, but the unit of work writes "
            f"to {bind_url.render_as_string()}: one transaction cannot span two databases, "
            f"so give both the same engine"
        )
    return session

"""`open_storage`: a service's unit of work, outbox, inbox and locks, from a database URL.

``memory`` keeps everything in process (tests); a SQLite file or a PostgreSQL URL keeps it in
one database, migrated to the core's tables plus the service's own. A service says what is its
own in a `StorageRecipe` - its two unit-of-work classes and its migrations - and gets back a
`Storage` it can migrate, probe (does each database take a write?) and close (its locks'
connections included). The thing to notice: the state, the outbox, the inbox and the
idempotency keys share one database, so one transaction covers them all. The locks may live
elsewhere (billing's ``LOCK_URL``): they sit outside every transaction anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cqrs_ddd_core.adapters.host.locks import shared_lock_strategy
from cqrs_ddd_core.adapters.host.settings import MEMORY
from cqrs_ddd_core.adapters.memory.idempotency import InMemoryIdempotencyStorage
from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.adapters.sqlalchemy.deadlines import DEADLINES_VERSIONS
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.idempotency import SqlAlchemyIdempotencyStorage
from cqrs_ddd_core.adapters.sqlalchemy.inbox import SqlAlchemyInboxStorage
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.adapters.sqlalchemy.outbox import SqlAlchemyOutboxStorage
from cqrs_ddd_core.adapters.sqlalchemy.write_probe import take_a_write
from cqrs_ddd_core.ports.idempotency import DEFAULT_TTL, IIdempotencyStorage
from cqrs_ddd_core.ports.inbox import IInboxStorage
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.ports.outbox import IOutboxStorage
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class StorageRecipe:
    """What is a service's own about its storage."""

    in_memory: Callable[[InMemoryStore], UnitOfWork]
    """Its unit of work over the in-process store (``DATABASE_URL=memory``)."""
    sql: Callable[[Sessions], UnitOfWork]
    """Its unit of work over a SQL database."""
    migrations: Path
    """Its own migrations (the versions folder), run after the core's."""
    locks: bool = False
    """Whether it takes locks (`LockingMiddleware`): then, next to a SQLite database, they get
    a file of their own (see locks.py). Otherwise they stay in the service's database, unused."""
    deadlines: bool = False
    """Whether it schedules durable deadlines: then its database gets the deadlines table
    (`DEADLINES_VERSIONS`), and `deadline_storage` stores them there."""


@dataclass
class Storage:
    """Where a service keeps its state, its outbox and its inbox (one database), and its locks."""

    uow_factory: Callable[[], UnitOfWork]
    outbox: IOutboxStorage
    inbox: IInboxStorage
    locks: ILockStrategy
    idempotency: IIdempotencyStorage
    """The responses to requests with an ``Idempotency-Key`` (the HTTP edge's inbox)."""
    migrations: Path | None = None
    extra_migrations: tuple[Path, ...] = ()
    """Optional core tables the service uses (the deadlines), migrated with its own."""
    engines: list[AsyncEngine] = field(default_factory=list)
    """The service's database first, then the lock database if it has its own."""

    @property
    def engine(self) -> AsyncEngine | None:
        """The service's database (``None`` in memory)."""
        return self.engines[0] if self.engines else None

    async def migrate(self) -> None:
        for index, engine in enumerate(self.engines):
            own = [self.migrations] if index == 0 and self.migrations is not None else []
            own += list(self.extra_migrations) if index == 0 else []
            await upgrade(engine, *own)

    async def takes_writes(self, timeout: float) -> str | None:
        """Why a database of the service did not take a write within ``timeout`` seconds, or
        ``None`` when each did (see write_probe.py). The reason is short and says nothing of
        the database's address: a readiness probe answers anyone who asks."""
        for engine in self.engines:
            try:
                await take_a_write(engine, timeout)
            except Exception as error:
                logger.warning("database %s took no write", engine.url, exc_info=True)
                if isinstance(error, TimeoutError) or "locked" in str(error):
                    return f"took no write within {timeout}s"
                return f"refused a write ({type(error).__name__})"
        return None

    async def close(self) -> None:
        try:
            await self.locks.aclose()  # a Redis strategy's connections; nothing for the others
        finally:
            for engine in self.engines:
                await engine.dispose()


def open_storage(
    database_url: str,
    recipe: StorageRecipe,
    *,
    locks: ILockStrategy | None = None,
    idempotency_ttl: timedelta = DEFAULT_TTL,
    pool_size: int | None = None,
    max_overflow: int | None = None,
) -> Storage:
    """The storage at ``database_url`` (``memory``, a SQLite file or PostgreSQL).

    ``locks``: a strategy of the service's choosing (billing's ``LOCK_URL``), which the
    storage then owns and closes; by default the locks live next to the database.
    ``idempotency_ttl``: how long a stored response is replayed (``IDEMPOTENCY_TTL_SECONDS``).
    ``pool_size``, ``max_overflow``: the database's connection pool (``DATABASE_POOL_SIZE``,
    ``DATABASE_MAX_OVERFLOW``); ``None`` keeps `create_engine`'s default for the backend.
    """
    if database_url == MEMORY:
        store = InMemoryStore()
        return Storage(
            uow_factory=lambda: recipe.in_memory(store),
            outbox=InMemoryOutboxStorage(),
            inbox=InMemoryInboxStorage(store),
            locks=locks if locks is not None else InMemoryLockStrategy(),
            idempotency=InMemoryIdempotencyStorage(store, ttl=idempotency_ttl),
        )
    _create_sqlite_directory(database_url)
    pool = {"pool_size": pool_size, "max_overflow": max_overflow}
    engine = create_engine(database_url, **{key: n for key, n in pool.items() if n is not None})
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    lock_engine: AsyncEngine | None = None
    if locks is None:
        locks, lock_engine = (
            shared_lock_strategy(engine) if recipe.locks else (SqlAlchemyLockStrategy(engine), None)
        )
    return Storage(
        uow_factory=lambda: recipe.sql(sessions),
        outbox=SqlAlchemyOutboxStorage(engine),
        inbox=SqlAlchemyInboxStorage(engine),
        locks=locks,
        idempotency=SqlAlchemyIdempotencyStorage(engine, ttl=idempotency_ttl),
        migrations=recipe.migrations,
        extra_migrations=(DEADLINES_VERSIONS,) if recipe.deadlines else (),
        engines=[engine] if lock_engine is None else [engine, lock_engine],
    )


def _create_sqlite_directory(database_url: str) -> None:
    prefix = "sqlite+aiosqlite:///"
    if database_url.startswith(prefix):
        Path(database_url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)

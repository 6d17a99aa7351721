"""Where a service's locks live: in its transactions, next to its database, or in Redis.

`service_locks` picks one from the settings. The locks every process of a service shares sit
in its database: held by each command's own transaction (``lock_store="transaction"``, see
`TransactionLockStrategy`), or as rows of a lock table (``"table"``, `shared_lock_strategy`).
A service that has a Redis can put them there instead (billing's ``LOCK_URL``):
`redis_lock_strategy` builds that strategy, and `check_lock_url` refuses any other URL when the
settings are read - so a typo stops the process at start, not at its first payment.

Why a separate file for SQLite: a lock operation is a short transaction of its own, and SQLite
has one writer per file. A command may take its locks before its transaction begins and have
a nested command re-enter them afterwards - and re-entering writes the hold count to the locks
table. In the same file that write would wait for the command's own open transaction, until the
busy timeout. PostgreSQL locks rows, not the database, so there the locks table sits with the
rest. Guide: docs/patterns/persistence.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine

from cqrs_ddd_core.adapters.host.settings import MEMORY
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine, is_sqlite
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.transaction_locks import TransactionLockStrategy
from cqrs_ddd_core.ports.locking import ILockStrategy

if TYPE_CHECKING:
    from cqrs_ddd_core.adapters.redis.locking import RedisLockStrategy


def service_locks(
    database_url: str,
    *,
    lock_url: str | None,
    lock_store: Literal["transaction", "table"],
    prefix: str,
) -> ILockStrategy | None:
    """The strategy a service's `LockingMiddleware` takes its locks from.

    ``None`` leaves the choice to `open_storage`: in process for a ``memory`` database, else a
    lock table next to the database (`shared_lock_strategy`).
    """
    if lock_url is not None:
        return redis_lock_strategy(lock_url, prefix=prefix)
    if lock_store == "transaction" and database_url != MEMORY:
        return TransactionLockStrategy()
    return None


def shared_lock_strategy(engine: AsyncEngine) -> tuple[ILockStrategy, AsyncEngine | None]:
    """The lock strategy, and the engine of the lock database if it has one of its own."""
    if not is_sqlite(engine):
        return SqlAlchemyLockStrategy(engine), None
    database = engine.url.database or ""
    lock_engine = create_engine(f"sqlite+aiosqlite:///{Path(database).with_suffix('.locks.db')}")
    return SqlAlchemyLockStrategy(lock_engine), lock_engine


# --8<-- [start:redis]
LOCK_URL_SCHEMES = ("redis", "rediss")
"""What ``LOCK_URL`` may name: a Redis server (``rediss`` with TLS)."""


def check_lock_url(url: str | None) -> str | None:
    """``url`` itself if it names a Redis server (or is unset); otherwise `ValueError`."""
    scheme = urlsplit(url).scheme if url is not None else ""
    if url is None or scheme in LOCK_URL_SCHEMES:
        return url
    # Only the scheme is shown: the rest of a URL may carry a password.
    got = f"the scheme {scheme!r}" if scheme else "no scheme"
    raise ValueError(
        f"LOCK_URL must be a redis:// or rediss:// URL, got {got}; "
        f"unset LOCK_URL to keep the locks in the service's database"
    )


def redis_lock_strategy(url: str, *, prefix: str) -> RedisLockStrategy:
    """Locks in the Redis at ``url``, under keys ``prefix`` + resource (one prefix a service)."""
    check_lock_url(url)
    # Imported here: Redis's client adds about 15 MB to a process, and only a service that
    # asks for Redis locks should carry it.
    from cqrs_ddd_core.adapters.redis.locking import RedisLockStrategy

    return RedisLockStrategy.from_url(url, prefix=prefix)


# --8<-- [end:redis]

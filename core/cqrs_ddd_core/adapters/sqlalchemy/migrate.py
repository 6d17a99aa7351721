"""`upgrade`: bring a database to the latest schema with Alembic, at service start-up.

The core ships the migrations of its own tables (outbox, inbox, locks, idempotency keys) as the
Alembic branch ``cqrs_ddd_core`` in ``migrations/``. A service keeps its own ``versions``
directory whose first revision says ``depends_on = ("cqrs_ddd_core",)`` and calls, at start-up::

    await upgrade(engine, Path(__file__).parent / "migrations")

Both branches share the core's ``env.py`` and one ``alembic_version`` table, so one call
upgrades every branch to its head. The thing to notice: the schema is only ever built by
running the migrations - tests too - so what runs in production is what was tested.
Every replica may call `upgrade` at once: they take turns (an advisory lock on PostgreSQL, the
``BEGIN IMMEDIATE`` write lock on SQLite) and the later ones find nothing left to do. Two
services of one process take turns too: Alembic keeps its context in module globals.

From a shell: ``python -m cqrs_ddd_core.adapters.sqlalchemy.migrate URL [VERSIONS_DIR ...]``.
Guide: docs/components/migrations.md.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.schema import core_metadata

CORE_BRANCH = "cqrs_ddd_core"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
CORE_VERSIONS_DIR = MIGRATIONS_DIR / "versions"

# Any constant works; it only has to be the same for every replica of every service.
_MIGRATION_LOCK_KEY = 4_242_001

# Alembic keeps the running migration's context in module globals, so two upgrades must not
# interleave in one event loop (two services of one process starting together).
_alembic_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)

# The modules that define the core's tables on `core_metadata`.
_CORE_TABLE_MODULES = (
    "cqrs_ddd_core.adapters.sqlalchemy.outbox",
    "cqrs_ddd_core.adapters.sqlalchemy.inbox",
    "cqrs_ddd_core.adapters.sqlalchemy.locking",
    "cqrs_ddd_core.adapters.sqlalchemy.idempotency",
)


def core_tables() -> MetaData:
    """`core_metadata` with every core table defined on it (what the migrations must build)."""
    for module in _CORE_TABLE_MODULES:
        importlib.import_module(module)
    return core_metadata


def alembic_config(*service_versions: str | Path, url: str | None = None) -> Config:
    """An Alembic `Config` for the core branch plus the services' ``versions`` directories."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    locations = [CORE_VERSIONS_DIR, *(Path(p) for p in service_versions)]
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(
    engine_or_url: AsyncEngine | str,
    *service_versions: str | Path,
    revision: str = "heads",
) -> None:
    """Run every pending migration of the core and of ``service_versions`` in one transaction."""
    engine = create_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    config = alembic_config(*service_versions)
    try:
        async with _alembic_turn(), engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Replicas starting together take turns; the later ones find nothing to do.
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            await connection.run_sync(_run_upgrade, config, revision)
    finally:
        if isinstance(engine_or_url, str):
            await engine.dispose()


def _alembic_turn() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    turn = _alembic_turns.get(loop)
    if turn is None:
        turn = _alembic_turns[loop] = asyncio.Lock()
    return turn


def _run_upgrade(connection: Connection, config: Config, revision: str) -> None:
    # env.py runs the migrations on this connection, inside our transaction.
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        raise SystemExit(
            "usage: python -m cqrs_ddd_core.adapters.sqlalchemy.migrate URL [VERSIONS_DIR ...]"
        )
    asyncio.run(upgrade(args[0], *args[1:]))


if __name__ == "__main__":
    main()

"""The Alembic migrations build exactly the tables the code declares, on SQLite and PostgreSQL.

Each test starts from an empty database (a new SQLite file, a new PostgreSQL database).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import alembic_config, core_tables, upgrade
from cqrs_ddd_core.adapters.sqlalchemy.migrate import main as migrate_main
from tests.isolation import create_postgres_database, drop_postgres_database
from tests.persistence.conftest import DATABASES
from tests.persistence.databases import sqlite_url
from tests.warehouse.sql import WAREHOUSE_VERSIONS, warehouse_metadata

CORE_TABLES = {"cqrs_outbox", "cqrs_inbox", "cqrs_locks", "cqrs_idempotency_keys"}


@pytest.fixture(params=DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no table at all."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    postgres_url = str(request.getfixturevalue("postgres_url"))
    url = asyncio.run(create_postgres_database(postgres_url))
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(postgres_url, url))


async def differences(url: str, metadata: MetaData | list[MetaData]) -> list[Any]:
    """What alembic's autogenerate would still change to make the database match."""

    def compare(connection: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_the_migrated_schema_matches_the_core_tables(empty_database_url: str) -> None:
    await upgrade(empty_database_url)

    assert await table_names(empty_database_url) >= CORE_TABLES
    assert await differences(empty_database_url, core_tables()) == []


async def test_a_service_branch_depending_on_the_core_migrates_with_it(
    empty_database_url: str,
) -> None:
    await upgrade(empty_database_url, WAREHOUSE_VERSIONS)

    assert await table_names(empty_database_url) == {
        *CORE_TABLES,
        "shelves",
        "shipments",
        "alembic_version",
    }
    assert await differences(empty_database_url, [core_tables(), warehouse_metadata]) == []


async def test_replicas_migrating_at_once_all_start_and_migrate_once(
    empty_database_url: str,
) -> None:
    # Each call opens its own engine, like separate replicas starting together.
    await asyncio.wait_for(
        asyncio.gather(*(upgrade(empty_database_url, WAREHOUSE_VERSIONS) for _ in range(3))),
        timeout=60,
    )
    await upgrade(empty_database_url, WAREHOUSE_VERSIONS)  # and once more later: nothing to do

    assert await differences(empty_database_url, [core_tables(), warehouse_metadata]) == []


def test_the_alembic_command_line_runs_the_env_on_an_async_engine(empty_database_url: str) -> None:
    # No connection handed over: env.py opens the async engine itself and uses run_sync.
    config = alembic_config(WAREHOUSE_VERSIONS, url=empty_database_url)

    command.upgrade(config, "heads")

    assert asyncio.run(differences(empty_database_url, [core_tables(), warehouse_metadata])) == []


def test_the_alembic_command_line_prints_the_sql_for_a_dba(tmp_path: Path) -> None:
    output = io.StringIO()
    config = alembic_config(url=sqlite_url(tmp_path))
    config.output_buffer = output

    command.upgrade(config, "heads", sql=True)

    script = output.getvalue()
    for table in sorted(CORE_TABLES):
        assert f"CREATE TABLE {table}" in script
    assert not (tmp_path / "service.db").exists(), "offline mode must not touch the database"


async def test_two_services_of_one_process_can_migrate_at_once(tmp_path: Path) -> None:
    # Alembic keeps its context in module globals; the embedded demo starts both services in
    # one process, so their upgrades must not interleave.
    ordering, billing = sqlite_url(tmp_path, "ordering.db"), sqlite_url(tmp_path, "billing.db")

    await asyncio.wait_for(
        asyncio.gather(upgrade(ordering, WAREHOUSE_VERSIONS), upgrade(billing)), timeout=60
    )

    assert await differences(ordering, [core_tables(), warehouse_metadata]) == []
    assert await differences(billing, core_tables()) == []


def test_the_migrate_module_upgrades_from_a_shell(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)

    migrate_main(
        [url, str(WAREHOUSE_VERSIONS)]
    )  # python -m cqrs_ddd_core.adapters.sqlalchemy.migrate

    assert asyncio.run(differences(url, [core_tables(), warehouse_metadata])) == []


def test_a_service_generates_its_first_revision_on_top_of_the_core_branch(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    versions = tmp_path / "versions"
    versions.mkdir()
    asyncio.run(upgrade(url))
    config = alembic_config(versions, url=url)
    config.attributes["target_metadata"] = [core_tables(), warehouse_metadata]

    command.revision(
        config,
        "the warehouse's tables",
        autogenerate=True,
        head="base",
        branch_label="warehouse",
        depends_on="cqrs_ddd_core",
        version_path=str(versions),
        rev_id="warehouse_0001",
    )
    asyncio.run(upgrade(url, versions))

    (script,) = versions.glob("warehouse_0001_*.py")
    assert "depends_on: str | Sequence[str] | None = 'cqrs_ddd_core'" in script.read_text()
    assert asyncio.run(differences(url, [core_tables(), warehouse_metadata])) == []

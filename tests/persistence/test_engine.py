"""`create_engine` on SQLite: writers queue on the write lock, readers do not."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine, read_only
from tests.persistence.databases import sqlite_url


@pytest.fixture
def url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


async def test_a_reader_is_not_held_up_by_a_writer_in_the_middle_of_a_transaction(
    url: str,
) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (v INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        async with engine.connect() as writer:
            await writer.execute(text("UPDATE t SET v = 2"))  # holds the write lock
            # A hang guard, under SQLite's 30 s busy timeout a queued reader would wait for.
            async with asyncio.timeout(20.0), read_only(engine).connect() as reader:
                # The snapshot before the writer's commit.
                assert (await reader.execute(text("SELECT v FROM t"))).scalar_one() == 1
            await writer.commit()
        async with read_only(engine).connect() as reader:
            assert (await reader.execute(text("SELECT v FROM t"))).scalar_one() == 2
    finally:
        await engine.dispose()


async def test_two_read_then_write_transactions_queue_and_lose_no_update(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (v INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (0)"))

        first_read, second_read, go = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def increment(has_read: asyncio.Event) -> None:
            async with engine.begin() as connection:
                v = (await connection.execute(text("SELECT v FROM t"))).scalar_one()
                has_read.set()
                await go.wait()
                await connection.execute(text("UPDATE t SET v = :v"), {"v": v + 1})

        first = asyncio.create_task(increment(first_read))
        await first_read.wait()
        second = asyncio.create_task(increment(second_read))
        # While the first holds the write lock, the second cannot even read.
        await asyncio.wait([asyncio.create_task(second_read.wait())], timeout=0.3)
        assert not second_read.is_set(), "the second writer read before the first committed"
        go.set()
        await asyncio.gather(first, second)

        async with read_only(engine).connect() as reader:
            assert (await reader.execute(text("SELECT v FROM t"))).scalar_one() == 2
    finally:
        await engine.dispose()


async def test_a_connection_given_back_inside_a_transaction_comes_back_rolled_back(
    url: str,
) -> None:
    # The pool rolls back only what is open (engine.py, `_on_reset`): a transaction begun
    # behind SQLAlchemy's back, which it cannot know of, must still not outlive the checkout.
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (v INTEGER)"))

        def write_without_commit(sync_connection: Any) -> None:
            cursor = sync_connection.connection.dbapi_connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("INSERT INTO t VALUES (1)")
            cursor.close()

        async with engine.connect() as connection:
            await connection.run_sync(write_without_commit)
            raw = await connection.get_raw_connection()
            assert raw.driver_connection.in_transaction

        async with engine.connect() as connection:  # the same connection: the pool holds one
            raw = await connection.get_raw_connection()
            assert not raw.driver_connection.in_transaction
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    finally:
        await engine.dispose()

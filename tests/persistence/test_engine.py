"""`create_engine` on SQLite: writers queue on the write lock, readers do not."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine, read_only


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}"


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
            async with asyncio.timeout(2.0), read_only(engine).connect() as reader:
                # The snapshot before the writer's commit, at once.
                assert (await reader.execute(text("SELECT v FROM t"))).scalar_one() == 1
            await writer.commit()
        async with read_only(engine).connect() as reader:
            assert (await reader.execute(text("SELECT v FROM t"))).scalar_one() == 2
    finally:
        await engine.dispose()


async def test_a_second_writer_queues_for_the_write_lock_until_the_first_commits(
    url: str,
) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (v INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (0)"))

        async def increment(entered: asyncio.Event, release: asyncio.Event) -> None:
            async with engine.begin() as connection:
                v = (await connection.execute(text("SELECT v FROM t"))).scalar_one()
                entered.set()
                await release.wait()
                await connection.execute(text("UPDATE t SET v = :v"), {"v": v + 1})

        first_in, second_in, go = asyncio.Event(), asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(increment(first_in, go))
        await first_in.wait()
        second = asyncio.create_task(increment(second_in, asyncio.Event()))
        await asyncio.sleep(0.3)
        assert not second_in.is_set(), "the second writer read before the first committed"
        go.set()
        await first
        await second_in.wait()
        # It read the first one's write, so no update is lost (it is still waiting to write).
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
        async with read_only(engine).connect() as reader:
            assert (await reader.execute(text("SELECT v FROM t"))).scalar_one() == 1
    finally:
        await engine.dispose()

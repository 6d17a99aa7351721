"""Several relay processes over one outbox publish every message exactly once (normal path).

Two OS processes run the real relay (`OutboxService` + `SqlAlchemyOutboxStorage`) over one
SQLite file, then over one PostgreSQL database. Each appends what it publishes to its own
log; together the logs must hold each of the 1,000 message ids exactly once.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.outbox import SqlAlchemyOutboxStorage
from cqrs_ddd_core.ports.outbox import OutboxMessage, OutboxStatus

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 1_000
RELAYS = 2


async def fill_outbox(url: str) -> list[str]:
    engine: AsyncEngine = create_engine(url)
    try:
        rows = [
            OutboxMessage.create("Counted", {"event_type": "Counted", "n": n})
            for n in range(MESSAGES)
        ]
        await SqlAlchemyOutboxStorage(engine).save(rows)
        return [row.message_id for row in rows]
    finally:
        await engine.dispose()


async def counts(url: str) -> dict[OutboxStatus, int]:
    engine = create_engine(url)
    try:
        return await SqlAlchemyOutboxStorage(engine).count_by_status()
    finally:
        await engine.dispose()


@pytest.mark.slow
def test_two_relay_processes_publish_each_of_1000_messages_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    message_ids = asyncio.run(fill_outbox(database_url))
    logs = [tmp_path / f"relay-{n}.log" for n in range(RELAYS)]
    relays = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.persistence.relay_worker", database_url, str(log)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for log in logs
    ]
    try:
        # Start them together: each has imported everything and says so first.
        for relay in relays:
            assert relay.stdout is not None
            assert relay.stdout.readline().strip() == "ready", relay.communicate(timeout=5)
        for relay in relays:
            assert relay.stdin is not None
            relay.stdin.write("go\n")
            relay.stdin.flush()
        errors = [relay.communicate(timeout=120)[1] for relay in relays]
    finally:
        for relay in relays:
            relay.kill()
    assert [relay.returncode for relay in relays] == [0] * RELAYS, errors

    per_relay = [log.read_text().split() for log in logs]
    published = Counter(message_id for ids in per_relay for message_id in ids)
    duplicates = {message_id: n for message_id, n in published.items() if n > 1}
    assert duplicates == {}, f"{len(duplicates)} messages were published more than once"
    assert set(published) == set(message_ids), "every message was published"
    assert all(per_relay), "both relays took part (otherwise nothing was shared)"
    assert asyncio.run(counts(database_url))[OutboxStatus.PUBLISHED] == MESSAGES

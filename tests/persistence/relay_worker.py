"""One outbox relay process, for the test where several relay processes share one outbox.

    python -m tests.persistence.relay_worker URL LOG_FILE

It prints "ready" and waits for a line on stdin - the test starts every relay at once that
way, so they really run at the same time - then relays the outbox with the real
`OutboxService` and `SqlAlchemyOutboxStorage` until every row is published. Its "broker"
appends each published message id to ``LOG_FILE``: the test counts the ids of all the logs
to find any message published twice.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, TextIO

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.outbox import SqlAlchemyOutboxStorage
from cqrs_ddd_core.cqrs.outbox.service import OutboxService
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.ports.outbox import OutboxStatus

BATCH_SIZE = 20
DEADLINE = 60.0


class FileBroker(IMessagePublisher):
    """A broker that records what it was given, one message id a line."""

    def __init__(self, log: TextIO) -> None:
        self._log = log

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.001)  # a broker round trip, so relays overlap
        self._log.write(f"{kwargs['message_id']}\n")
        self._log.flush()


async def relay(url: str, log: TextIO) -> None:
    engine = create_engine(url)
    storage = SqlAlchemyOutboxStorage(engine)
    # The lease outlasts the run: this test is about the normal path, not crashed relays.
    service = OutboxService(storage, FileBroker(log), lease_seconds=DEADLINE)
    try:
        async with asyncio.timeout(DEADLINE):
            while True:
                result = await service.run_batch(BATCH_SIZE)
                if result.claimed:
                    continue
                counts = await storage.count_by_status()
                if counts[OutboxStatus.PUBLISHED] + counts[OutboxStatus.DEAD] == sum(
                    counts.values()
                ):
                    return
                await asyncio.sleep(0.01)  # the other relay holds the last rows
    finally:
        await engine.dispose()


def main() -> None:
    url, log_file = sys.argv[1:3]
    print("ready", flush=True)  # imported and ready: only the relaying is left
    sys.stdin.readline()  # the go signal
    with open(log_file, "a", encoding="utf-8") as log:
        asyncio.run(relay(url, log))


if __name__ == "__main__":
    main()

"""A consumer process whose handler kills the process on a message marked ``crash``.

``python -m tests.rabbitmq.crashing_consumer URL EXCHANGE QUEUE MAX_ATTEMPTS`` consumes
the warehouse's ``ShipmentAnnounced`` until it is killed; it prints ``handled <shipment_id>``
for every other message.
The hard exit is what a segfault or an out-of-memory kill looks like to the broker: no ack, no
reject, no goodbye - only a connection that disappears. `start` runs it for a test.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer

CRASH_EXIT_CODE = 3


async def start(
    url: str, exchange: str, queue_name: str, max_attempts: int
) -> asyncio.subprocess.Process:
    """This consumer in a process of its own, returned once it consumes."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.rabbitmq.crashing_consumer",
        url,
        exchange,
        queue_name,
        str(max_attempts),
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
    assert line.decode().strip() == "consuming", line
    return process


async def main(url: str, exchange: str, queue_name: str, max_attempts: int) -> None:
    consumer = RabbitMQConsumer(url, exchange, max_attempts=max_attempts, retry_delay=0.2)

    async def handle(payload: dict[str, Any]) -> None:
        if payload.get("crash"):
            os._exit(CRASH_EXIT_CODE)
        print(f"handled {payload['shipment_id']}", flush=True)

    await consumer.subscribe("ShipmentAnnounced", handle, queue_name=queue_name)
    print("consuming", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    url, exchange, queue_name, max_attempts = sys.argv[1:5]
    asyncio.run(main(url, exchange, queue_name, int(max_attempts)))

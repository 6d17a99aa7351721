"""Steps of the crash-loop scenario: a real RabbitMQ, and consumers as processes that die.

Each consumer is `tests/rabbitmq/crashing_consumer.py` in a process of its own; a message
marked ``crash`` makes it hard-exit in the middle of handling. The "supervisor" step restarts
it each time it dies, as systemd or Kubernetes would, and stops once the message is
dead-lettered (or after twice as many restarts as the consumer allows attempts: a loop).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from pytest_bdd import given, parsers, then, when

from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer, RabbitMQPublisher
from cqrs_ddd_core.adapters.rabbitmq.dead_letters import DeadLetter
from tests.conftest import Run
from tests.rabbitmq import crashing_consumer


@dataclass
class CrashLoop:
    url: str
    exchange: str
    queue_name: str
    publisher: RabbitMQPublisher
    observer: RabbitMQConsumer
    """Reads the dead letters; consumes nothing."""
    max_attempts: int = 0
    process: asyncio.subprocess.Process | None = None
    exit_codes: list[int] = field(default_factory=list)

    async def start(self) -> None:
        self.process = await crashing_consumer.start(
            self.url, self.exchange, self.queue_name, self.max_attempts
        )

    async def supervise(self) -> None:
        """Restart the consumer each time it dies, until its message is dead-lettered."""
        for _ in range(2 * self.max_attempts):
            assert self.process is not None
            exited = asyncio.ensure_future(self.process.wait())
            async with asyncio.timeout(20):
                # Two things to wait for, one of them only visible by asking the broker: poll.
                while not exited.done() and not await self.dead_letters():  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            if not exited.done():
                exited.cancel()
                return
            self.exit_codes.append(exited.result())
            await self.start()
        # An AssertionError, not pytest.fail: a BaseException would stop the scenario's loop.
        raise AssertionError(f"the consumer died {len(self.exit_codes)} times and is still dying")

    async def dead_letters(self) -> list[DeadLetter]:
        return await self.observer.dead_letters(self.queue_name)

    async def close(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await self.publisher.close()
        await self.observer.stop()


@pytest.fixture
def crash_loop(rabbitmq_url: str, run: Run) -> Iterator[CrashLoop]:
    names = f"t{uuid.uuid4().hex[:8]}"
    exchange = f"{names}.events"
    loop = CrashLoop(
        url=rabbitmq_url,
        exchange=exchange,
        queue_name=f"{names}.billing",
        publisher=RabbitMQPublisher(rabbitmq_url, exchange),
        observer=RabbitMQConsumer(rabbitmq_url, exchange),
    )
    try:
        yield loop
    finally:
        run(loop.close)


@given(
    parsers.parse(
        "a consumer process on RabbitMQ that dies while handling a crashing message, "
        "allowed {attempts:d} attempts"
    )
)
def _consumer_process(crash_loop: CrashLoop, run: Run, attempts: int) -> None:
    crash_loop.max_attempts = attempts
    run(crash_loop.start)


@when(parsers.parse('the broker delivers a crashing "OrderCreated" of order "{order_id}"'))
def _crashing_message(crash_loop: CrashLoop, run: Run, order_id: str) -> None:
    payload = {"event_type": "OrderCreated", "order_id": order_id, "crash": True}
    run(crash_loop.publisher.publish, "OrderCreated", payload)


@when("a supervisor restarts the consumer each time it dies")
def _supervisor(crash_loop: CrashLoop, run: Run) -> None:
    run(crash_loop.supervise)


@then(parsers.parse("the consumer died {times:d} times"))
def _died(crash_loop: CrashLoop, times: int) -> None:
    assert crash_loop.exit_codes == [crashing_consumer.CRASH_EXIT_CODE] * times


@then(
    parsers.parse(
        'the message of order "{order_id}" is dead-lettered after {attempts:d} attempts '
        'with a reason containing "{reason}"'
    )
)
def _dead_lettered_as_lost(
    crash_loop: CrashLoop, run: Run, order_id: str, attempts: int, reason: str
) -> None:
    [letter] = run(crash_loop.dead_letters)
    assert letter.payload["order_id"] == order_id
    assert letter.attempts == attempts
    assert reason in letter.reason, letter.reason


@then(parsers.parse('the consumer that outlived it handles order "{order_id}"'))
def _outlived(crash_loop: CrashLoop, run: Run, order_id: str) -> None:
    async def handled() -> str:
        await crash_loop.publisher.publish(
            "OrderCreated", {"event_type": "OrderCreated", "order_id": order_id}
        )
        assert crash_loop.process is not None
        assert crash_loop.process.stdout is not None
        line = await asyncio.wait_for(crash_loop.process.stdout.readline(), timeout=10)
        return line.decode().strip()

    assert run(handled) == f"handled {order_id}"

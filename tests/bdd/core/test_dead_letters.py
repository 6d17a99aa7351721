"""Scenarios: features/core/dead_letters.feature - poison and failing messages end with a reason.

Shared steps (the warehouse, the storefront consumer, the broker): messaging_world.py. The last
scenario runs on a real RabbitMQ with consumers as processes that die: each consumer is
`tests/rabbitmq/crashing_consumer.py` in a process of its own; a message marked ``crash`` makes
it hard-exit in the middle of handling. The "supervisor" step restarts it each time it dies, as
systemd or Kubernetes would, and stops once the message is dead-lettered (or after twice as
many restarts as the consumer allows attempts: a loop).

The words of the feature: a storefront worker is a consumer, "delivered again" redelivered; the
reasons are said in words, and `expected_reason` gives the text the dead letter must contain.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer, RabbitMQPublisher
from cqrs_ddd_core.adapters.rabbitmq.dead_letters import DeadLetter
from tests.bdd.core.messaging_world import *  # noqa: F403 - the steps are fixtures pytest-bdd finds by name
from tests.bdd.core.messaging_world import NEWS, Messaging, wait_until
from tests.conftest import Run
from tests.rabbitmq import crashing_consumer

scenarios("core/dead_letters.feature")

POISON: dict[str, tuple[str, dict[str, Any]]] = {
    "news that a shipment was teleported": (
        "ShipmentTeleported",
        {"event_type": "ShipmentTeleported", "shipment_id": "s-1"},
    ),
    "an announcement without its shipment number": (
        "ShipmentAnnounced",
        {"event_type": "ShipmentAnnounced", "quantity": 100},
    ),
    "a message that does not say what news it is": (
        "ShipmentAnnounced",
        {"shipment_id": "s-1", "quantity": 100},
    ),
}
"""The scenario's words for each poison message: (topic, payload)."""

REASONS = {
    "the storefront knows no news of that kind": "unknown event type 'ShipmentTeleported'",
    "the shipment number is missing": (
        "Invalid payload for 'ShipmentAnnounced': bad field(s) shipment_id"
    ),
    "the message does not say what news it is": "message has no 'event_type'",
    "the broker could not be reached": "ConnectionError",
}
"""The scenarios' reasons -> the text the dead letter's reason must contain."""


def expected_reason(reason: str) -> str:
    failed = re.fullmatch(r'listing failed with "(?P<text>.*)"', reason)
    if failed is not None:
        return f"RuntimeError: {failed['text']}"  # the handler's exception, by class
    return REASONS[reason]


# --- poison and failing messages -----------------------------------------------------------


@given("the outbox gives up after 2 retries")
def outbox_gives_up(messaging: Messaging) -> None:
    for outbox in messaging.outboxes:
        outbox.service.max_retries = 2


@when(parsers.parse("the broker delivers a poison message: {message}"))
def delivers_poison(messaging: Messaging, message: str) -> None:
    topic, payload = POISON[message]
    messaging.run(messaging.broker.publish, topic, payload)
    messaging.run(messaging.broker.drain)


@when("the broker comes back and the dead announcement is sent again")
def broker_back_and_redrive(messaging: Messaging) -> None:
    messaging.broker.bring_up()
    outbox = messaging.outboxes[0]
    for dead in messaging.run(outbox.list_dead):
        assert messaging.run(outbox.redrive, dead.message_id)


@then(
    parsers.re(
        r"the message is dead-lettered after (?P<count>\d+) deliver(y|ies), because "
        r"(?P<reason>.*)"
    ),
    converters={"count": int},
)
def dead_lettered(messaging: Messaging, count: int, reason: str) -> None:
    [dead] = messaging.broker.dead_letters("storefront")
    assert dead.deliveries == count
    assert expected_reason(reason) in dead.reason, dead.reason


@then("nothing is listed")
def nothing_listed(messaging: Messaging) -> None:
    assert messaging.storefront_store.collections.get("listings", {}) == {}
    assert messaging.listing.calls == 0


@then(parsers.parse("listing was attempted {count:d} times"))
def attempted(messaging: Messaging, count: int) -> None:
    assert messaging.listing.calls == count


@then(
    parsers.parse(
        "the dead letter keeps the announcement whole, with its own number and the tracking "
        'number of shipment "{shipment_id}"'
    )
)
def dead_letter_ids(messaging: Messaging, shipment_id: str) -> None:
    [dead] = messaging.broker.dead_letters("storefront")
    [event] = messaging.events
    assert dead.message_id == event.event_id
    assert dead.headers["correlation_id"] == f"story-{shipment_id}"
    assert dead.payload == event.to_payload()


@then(
    parsers.parse(
        'the outbox eventually lists the {news} of shipment "{shipment_id}" as dead after '
        "{tries:d} tries, because {reason}"
    )
)
def outbox_lists_dead(
    messaging: Messaging, news: str, shipment_id: str, tries: int, reason: str
) -> None:
    topic, error = NEWS[news], expected_reason(reason)
    outbox = messaging.outboxes[0]

    async def dead_listed() -> bool:
        return bool(await outbox.list_dead())

    wait_until(messaging, dead_listed, "the row died")
    [dead] = messaging.run(outbox.list_dead)
    assert (dead.topic, dead.payload["shipment_id"]) == (topic, shipment_id)
    assert dead.attempts == tries
    assert dead.last_error is not None
    assert error in dead.last_error


# --- a message that crashes its consumer (RabbitMQ, consumers as processes) -----------------


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
        queue_name=f"{names}.storefront",
        publisher=RabbitMQPublisher(rabbitmq_url, exchange),
        observer=RabbitMQConsumer(rabbitmq_url, exchange),
    )
    try:
        yield loop
    finally:
        run(loop.close)


@given(
    parsers.parse(
        "a storefront worker on RabbitMQ, a program of its own that dies while handling a "
        "crashing announcement, allowed {attempts:d} attempts"
    )
)
def _consumer_process(crash_loop: CrashLoop, run: Run, attempts: int) -> None:
    crash_loop.max_attempts = attempts
    run(crash_loop.start)


@when(parsers.parse('the broker delivers a crashing announcement of shipment "{shipment_id}"'))
def _crashing_message(crash_loop: CrashLoop, run: Run, shipment_id: str) -> None:
    # The crashing consumer process names the message it handled by its shipment_id.
    payload = {"event_type": "ShipmentAnnounced", "shipment_id": shipment_id, "crash": True}
    run(crash_loop.publisher.publish, "ShipmentAnnounced", payload)


@when("a supervisor restarts the worker each time it dies")
def _supervisor(crash_loop: CrashLoop, run: Run) -> None:
    run(crash_loop.supervise)


@then(parsers.parse("the worker died {times:d} times"))
def _died(crash_loop: CrashLoop, times: int) -> None:
    assert crash_loop.exit_codes == [crashing_consumer.CRASH_EXIT_CODE] * times


@then(
    parsers.parse(
        'the announcement of shipment "{shipment_id}" is dead-lettered after {attempts:d} '
        "attempts, because the last one was lost with the worker handling it"
    )
)
def _dead_lettered_as_lost(
    crash_loop: CrashLoop, run: Run, shipment_id: str, attempts: int
) -> None:
    [letter] = run(crash_loop.dead_letters)
    assert letter.payload["shipment_id"] == shipment_id
    assert letter.attempts == attempts
    reason = (
        f"DeliveryLostError: attempt {attempts} was never settled: "
        "the consumer handling it was lost"
    )
    assert reason in letter.reason, letter.reason


@then(parsers.parse('the worker that outlived it handles the announcement of shipment "{message}"'))
def _outlived(crash_loop: CrashLoop, run: Run, message: str) -> None:
    async def handled() -> str:
        await crash_loop.publisher.publish(
            "ShipmentAnnounced", {"event_type": "ShipmentAnnounced", "shipment_id": message}
        )
        assert crash_loop.process is not None
        assert crash_loop.process.stdout is not None
        line = await asyncio.wait_for(crash_loop.process.stdout.readline(), timeout=10)
        return line.decode().strip()

    assert run(handled) == f"handled {message}"

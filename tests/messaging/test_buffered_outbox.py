"""`BufferedOutbox`: stored with the transaction, relayed after it, through outages and stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.outbox.buffered import HELD_BATCHES, BufferedOutbox
from cqrs_ddd_core.cqrs.outbox.service import BatchResult
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.ports.outbox import OutboxMessage, OutboxStatus
from tests.messaging.support import ItemAdded, OffsetClock, RecordingPublisher, eventually


class FunctionHandler:
    def __init__(self, function: Callable[[Any], Awaitable[Any]]) -> None:
        self.handle = function


async def has(storage: InMemoryOutboxStorage, status: OutboxStatus, count: int) -> bool:
    return (await storage.count_by_status())[status] == count


@pytest.fixture
async def storage() -> InMemoryOutboxStorage:
    return InMemoryOutboxStorage()


@pytest.fixture
async def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
async def outbox(
    storage: InMemoryOutboxStorage, publisher: RecordingPublisher
) -> AsyncIterator[BufferedOutbox]:
    outbox = BufferedOutbox(
        storage, publisher, poll_interval=0.05, wait_delay=0.01, max_delay=0.05, max_retries=50
    )
    await outbox.start()
    yield outbox
    await asyncio.wait_for(outbox.stop(), timeout=5)


async def test_a_message_published_outside_a_unit_of_work_is_stored_and_relayed(
    outbox: BufferedOutbox, publisher: RecordingPublisher
) -> None:
    event = ItemAdded(sku="a")
    await outbox.publish("ItemAdded", event)

    await eventually(lambda: len(publisher.published) == 1, what="the relay published it")
    assert publisher.published[0].message == event.to_payload()
    assert publisher.published[0].kwargs["message_id"] == event.event_id


class Note(Command[None]):
    sku: str
    fail: bool = False


async def test_a_message_published_in_a_unit_of_work_leaves_only_after_the_commit(
    outbox: BufferedOutbox, storage: InMemoryOutboxStorage, publisher: RecordingPublisher
) -> None:
    seen_before_commit: list[int] = []

    async def handle(command: Note) -> CommandResponse[None]:
        await outbox.publish("ItemAdded", ItemAdded(sku=command.sku))
        await asyncio.sleep(0.1)  # the worker had every chance to run
        seen_before_commit.append(sum((await storage.count_by_status()).values()))
        seen_before_commit.append(len(publisher.published))
        if command.fail:
            raise RuntimeError("the handler failed after publishing")
        return CommandResponse(result=None)

    registry = HandlerRegistry()
    registry.register_command_handler(Note, FunctionHandler(handle))
    mediator = Mediator(registry, InMemoryUnitOfWork)

    with pytest.raises(RuntimeError):
        await mediator.send(Note(sku="rolled-back", fail=True))
    await mediator.send(Note(sku="committed"))

    assert seen_before_commit == [0, 0, 0, 0], "nothing was visible before a commit"
    await eventually(lambda: len(publisher.published) == 1, what="relayed after the commit")
    assert publisher.published[0].message["sku"] == "committed"
    await asyncio.sleep(0.1)
    assert len(publisher.published) == 1, "the rolled-back command's event never left"


async def test_a_burst_of_messages_goes_out_in_one_batch_without_a_claim(
    storage: InMemoryOutboxStorage, publisher: RecordingPublisher
) -> None:
    outbox = BufferedOutbox(storage, publisher, poll_interval=10, wait_delay=0.05)
    claims: list[int] = []
    batches: list[int] = []
    claim = storage.claim_batch
    publish_held = outbox.service.publish_held

    async def counted_claim(batch_size: int, *, lease_seconds: float) -> list[OutboxMessage]:
        batch = await claim(batch_size, lease_seconds=lease_seconds)
        if batch:
            claims.append(len(batch))
        return batch

    async def counted_relay(batch: list[OutboxMessage]) -> tuple[list[str], BatchResult]:
        batches.append(len(batch))
        return await publish_held(batch)

    storage.claim_batch = counted_claim  # type: ignore[method-assign]
    outbox.service.publish_held = counted_relay  # type: ignore[method-assign]
    await outbox.start()
    try:
        for i in range(20):
            await outbox.publish("ItemAdded", ItemAdded(sku=str(i)))
        await eventually(lambda: len(publisher.published) == 20)
        await eventually(lambda: has(storage, OutboxStatus.PUBLISHED, 20))
    finally:
        await outbox.stop()

    assert batches == [20], "twenty wake-ups were debounced into one batch"
    assert claims == [], "rows leased to their writer at insert need no claim"


async def test_a_row_whose_writer_died_before_publishing_is_claimed_when_its_lease_ends(
    publisher: RecordingPublisher,
) -> None:
    clock = OffsetClock()
    storage = InMemoryOutboxStorage(clock=clock)
    dying = BufferedOutbox(storage, RecordingPublisher(), poll_interval=60, lease_seconds=30)
    dying._hand_over = lambda row: None  # type: ignore[method-assign] # dies after the commit
    survivor = BufferedOutbox(storage, publisher, poll_interval=0.05, wait_delay=0.01)
    await dying.start()
    await survivor.start()
    try:
        await dying.publish("ItemAdded", ItemAdded(sku="orphan"))
        assert await has(storage, OutboxStatus.CLAIMED, 1), "inserted leased to its writer"
        await asyncio.sleep(0.2)  # the survivor polled a few times meanwhile
        assert publisher.published == [], "nobody else takes a row while its lease lasts"
        clock.advance(31)
        await eventually(lambda: len(publisher.published) == 1, what="claimed after the lease")
        await eventually(lambda: has(storage, OutboxStatus.PUBLISHED, 1))
    finally:
        await survivor.stop()
        await dying.stop()


async def test_marks_of_rows_published_one_at_a_time_share_one_statement_after_mark_delay(
    storage: InMemoryOutboxStorage, publisher: RecordingPublisher
) -> None:
    outbox = BufferedOutbox(storage, publisher, poll_interval=10, wait_delay=0.001, mark_delay=0.3)
    marks: list[int] = []
    mark_published = storage.mark_published

    async def counted_mark(message_ids: list[str], claim_token: str) -> int:
        marks.append(len(message_ids))
        return await mark_published(message_ids, claim_token)

    storage.mark_published = counted_mark  # type: ignore[method-assign]
    await outbox.start()
    try:
        for i in range(5):
            await outbox.publish("ItemAdded", ItemAdded(sku=str(i)))
            # Each one is published at once, in a batch of its own...
            await eventually(lambda i=i: len(publisher.published) == i + 1)
            await asyncio.sleep(0.01)
        # ...and is still only claimed: its mark waits for the others.
        assert await has(storage, OutboxStatus.CLAIMED, 5)
        assert marks == []
        await eventually(lambda: has(storage, OutboxStatus.PUBLISHED, 5), what="marked")
        assert marks == [5], "five rows published one by one, marked by one statement"
    finally:
        await outbox.stop()


async def test_stop_writes_the_marks_that_were_waiting(
    storage: InMemoryOutboxStorage, publisher: RecordingPublisher
) -> None:
    outbox = BufferedOutbox(storage, publisher, poll_interval=10, mark_delay=20)
    await outbox.start()
    await outbox.publish("ItemAdded", ItemAdded(sku="a"))
    await eventually(lambda: len(publisher.published) == 1)
    assert await has(storage, OutboxStatus.CLAIMED, 1)
    await outbox.stop()
    assert await has(storage, OutboxStatus.PUBLISHED, 1)


async def test_a_mark_lost_with_its_process_costs_a_duplicate_publish_never_a_lost_message(
    publisher: RecordingPublisher,
) -> None:
    clock = OffsetClock()
    storage = InMemoryOutboxStorage(clock=clock)
    first = RecordingPublisher()
    dying = BufferedOutbox(storage, first, poll_interval=60, mark_delay=20, lease_seconds=30)
    survivor = BufferedOutbox(storage, publisher, poll_interval=0.05, wait_delay=0.01)
    await dying.start()
    await survivor.start()
    try:
        await dying.publish("ItemAdded", ItemAdded(sku="once"))
        await eventually(lambda: len(first.published) == 1)
        assert dying._task is not None
        dying._task.cancel()  # the process dies with the mark still waiting
        await asyncio.gather(dying._task, return_exceptions=True)
        await asyncio.sleep(0.2)
        assert publisher.published == [], "the row stays leased to its dead writer meanwhile"
        clock.advance(31)
        await eventually(lambda: len(publisher.published) == 1, what="published again")
        assert publisher.counts_by_id() == first.counts_by_id(), "the same message, again"
        await eventually(lambda: has(storage, OutboxStatus.PUBLISHED, 1))
    finally:
        await survivor.stop()


def test_a_mark_delay_as_long_as_the_lease_is_refused(storage: InMemoryOutboxStorage) -> None:
    with pytest.raises(ValueError, match="shorter than the lease"):
        BufferedOutbox(storage, RecordingPublisher(), mark_delay=30, lease_seconds=30)


async def test_while_the_broker_hangs_new_rows_wait_in_storage_not_in_memory(
    storage: InMemoryOutboxStorage,
) -> None:
    broker_back = asyncio.Event()

    class HangingPublisher(RecordingPublisher):
        async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
            await broker_back.wait()
            await super().publish(topic, message, **kwargs)

    hanging = HangingPublisher()
    outbox = BufferedOutbox(storage, hanging, batch_size=2, poll_interval=0.05, wait_delay=0.01)
    await outbox.start()
    try:
        for i in range(20):  # no await yields to the relay in between: it sees them at once
            await outbox.publish("ItemAdded", ItemAdded(sku=str(i)))
        counts = await storage.count_by_status()
        held = HELD_BATCHES * outbox.batch_size
        assert counts[OutboxStatus.CLAIMED] == held, "only a few batches are leased at insert"
        assert counts[OutboxStatus.PENDING] == 20 - held, "the rest waits for the claim path"
        broker_back.set()
        await eventually(lambda: has(storage, OutboxStatus.PUBLISHED, 20), timeout=10)
    finally:
        broker_back.set()
        await outbox.stop()
    assert sorted(hanging.counts_by_id().values()) == [1] * 20, "each row sent once"


async def test_rows_written_by_another_process_are_found_by_polling(
    outbox: BufferedOutbox, storage: InMemoryOutboxStorage, publisher: RecordingPublisher
) -> None:
    await asyncio.sleep(0.02)  # the worker is idle, waiting
    await storage.save([OutboxMessage.create("ItemAdded", ItemAdded(sku="elsewhere"))])

    await eventually(lambda: len(publisher.published) == 1, what="the poll found the row")


async def test_a_broker_outage_loses_nothing() -> None:
    storage = InMemoryOutboxStorage()
    broker = InMemoryBroker()
    broker.declare_queue("audit", ["#"])
    outbox = BufferedOutbox(
        storage, broker, poll_interval=0.05, wait_delay=0.01, max_delay=0.05, max_retries=1000
    )
    await outbox.start()
    try:
        broker.take_down()
        events = [ItemAdded(sku=str(i)) for i in range(30)]
        for event in events:
            await outbox.publish("ItemAdded", event)
        await eventually(
            lambda: has(storage, OutboxStatus.FAILED, 30),
            what="every publish failed during the outage",
        )
        assert broker.published == []

        broker.bring_up()
        await eventually(lambda: len(broker.published) == 30, what="everything went out")
    finally:
        await outbox.stop()

    assert sorted(e.message_id for e in broker.published) == sorted(e.event_id for e in events)
    assert (await storage.count_by_status())[OutboxStatus.PUBLISHED] == 30


async def test_stop_finishes_the_batch_in_flight(storage: InMemoryOutboxStorage) -> None:
    slow = RecordingPublisher(delay=0.2)
    outbox = BufferedOutbox(storage, slow, poll_interval=10, wait_delay=0.01)
    await outbox.start()
    for i in range(5):
        await outbox.publish("ItemAdded", ItemAdded(sku=str(i)))
    await eventually(lambda: slow.calls == 5, what="the batch is being published")

    await asyncio.wait_for(outbox.stop(), timeout=5)

    assert not outbox.running
    assert len(slow.published) == 5
    counts = await storage.count_by_status()
    assert counts[OutboxStatus.PUBLISHED] == 5
    assert counts[OutboxStatus.CLAIMED] == 0


async def test_rows_left_by_a_stopped_relay_go_out_on_the_next_start(
    storage: InMemoryOutboxStorage, publisher: RecordingPublisher
) -> None:
    outbox = BufferedOutbox(storage, publisher, poll_interval=10, wait_delay=0.01)
    await outbox.publish("ItemAdded", ItemAdded(sku="waiting"))  # never started: stored only
    assert publisher.published == []

    await outbox.start()
    try:
        await eventually(lambda: len(publisher.published) == 1)
    finally:
        await outbox.stop()


async def test_a_dead_message_is_listed_and_can_be_redriven(
    storage: InMemoryOutboxStorage,
) -> None:
    broken = RecordingPublisher(fail_when=lambda topic, payload: True)
    outbox = BufferedOutbox(
        storage, broken, max_retries=1, poll_interval=0.02, wait_delay=0.005, max_delay=0.01
    )
    event = ItemAdded(sku="doomed")
    await outbox.start()
    try:
        await outbox.publish("ItemAdded", event)
        await eventually(lambda: has(storage, OutboxStatus.DEAD, 1))
        [dead] = await outbox.list_dead()
        assert dead.message_id == event.event_id
        assert dead.last_error == "ConnectionError: recording refused ItemAdded"
        assert broken.calls == 2

        broken.fail_when = None  # the cause is fixed
        assert await outbox.redrive(event.event_id)
        await eventually(lambda: len(broken.published) == 1, what="the redriven message")
    finally:
        await outbox.stop()
    assert await outbox.list_dead() == []


async def test_a_payload_without_event_type_is_refused_before_it_is_stored(
    outbox: BufferedOutbox, storage: InMemoryOutboxStorage
) -> None:
    with pytest.raises(ValueError, match="no 'event_type'"):
        await outbox.publish("Something", {"sku": "a"})
    assert sum((await storage.count_by_status()).values()) == 0


async def test_a_dict_with_event_type_is_relayed_with_its_row_id_as_event_id(
    outbox: BufferedOutbox, publisher: RecordingPublisher
) -> None:
    await outbox.publish("Legacy", {"event_type": "Legacy", "n": 1}, correlation_id="c-1")
    await eventually(lambda: len(publisher.published) == 1)
    sent = publisher.published[0]
    # Every copy carries the same event_id: the key a receiver's inbox deduplicates on.
    assert sent.message == {"event_type": "Legacy", "n": 1, "event_id": sent.kwargs["message_id"]}
    assert sent.kwargs["correlation_id"] == "c-1"

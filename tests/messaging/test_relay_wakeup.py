"""The relay's debounce costs a lone message nothing; only a burst waits to become one batch.

The debounce (``wait_delay``) gathers a burst of commits into one claim. A message committed
after a quiet spell has no burst to wait for: it goes at once. A message committed right after
a round - while the burst is on - waits the debounce, with the others. The delay here is made
long (0.5 s) so that the difference cannot hide in the machine's noise.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from cqrs_ddd_core.adapters.memory.outbox import InMemoryOutboxStorage
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox

DEBOUNCE = 0.5


class Arrivals:
    """A publisher that records when each message arrived."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.arrived = asyncio.Event()

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        self.times.append(time.monotonic())
        self.arrived.set()


async def relayed_after(outbox: BufferedOutbox, arrivals: Arrivals, sku: str) -> float:
    arrivals.arrived.clear()
    sent = time.monotonic()
    await outbox.publish("ItemAdded", {"event_type": "ItemAdded", "sku": sku})
    await asyncio.wait_for(arrivals.arrived.wait(), timeout=10)
    return arrivals.times[-1] - sent


async def test_a_message_after_a_quiet_spell_is_relayed_without_the_debounce() -> None:
    arrivals = Arrivals()
    outbox = BufferedOutbox(
        InMemoryOutboxStorage(), arrivals, poll_interval=30, wait_delay=DEBOUNCE
    )
    await outbox.start()
    try:
        await asyncio.sleep(DEBOUNCE * 1.5)  # quiet: the start-up round is long over

        assert await relayed_after(outbox, arrivals, "lone") < DEBOUNCE / 2
    finally:
        await outbox.stop()


async def test_a_message_right_after_a_round_waits_the_debounce_with_its_burst() -> None:
    arrivals = Arrivals()
    outbox = BufferedOutbox(
        InMemoryOutboxStorage(), arrivals, poll_interval=30, wait_delay=DEBOUNCE
    )
    await outbox.start()
    try:
        await asyncio.sleep(DEBOUNCE * 1.5)
        await relayed_after(outbox, arrivals, "first")  # a round has just ended

        assert await relayed_after(outbox, arrivals, "second") >= DEBOUNCE * 0.9
    finally:
        await outbox.stop()

"""What the messaging tests share: a neutral event, a recording publisher, bounded waiting.

``ItemAdded`` is a plain event for the tests of the broker and outbox mechanics; the routed
events of the routing tests are the warehouse's (tests/warehouse/messaging.py).
"""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.ports.outbox import utc_now


class ItemAdded(DomainEvent):
    sku: str
    quantity: int = 1


@dataclass
class Published:
    topic: str
    message: Any
    kwargs: dict[str, Any]


@dataclass
class RecordingPublisher(IMessagePublisher):
    """Records each publish; ``fail_when`` makes chosen publishes raise."""

    name: str = "recording"
    delay: float = 0.0
    fail_when: Callable[[str, Any], bool] | None = None
    published: list[Published] = field(default_factory=list)
    calls: int = 0

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail_when is not None and self.fail_when(topic, message):
            raise ConnectionError(f"{self.name} refused {topic}")
        self.published.append(Published(topic, message, kwargs))

    def counts_by_id(self) -> Counter[str]:
        return Counter(str(p.kwargs.get("message_id")) for p in self.published)


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0, what: str = ""
) -> None:
    """Wait until ``condition`` holds; fail with ``what`` after ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                result = condition()
                if inspect.isawaitable(result):
                    result = await result
                if result:
                    return
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise AssertionError(f"not within {timeout}s: {what or condition}") from None


class OffsetClock:
    """Real time, plus however far a test moved it: a lease "runs out" at once, on any machine.

    Give it to a storage as ``clock=``. Time still flows, so everything else behaves as with
    the real clock; `advance` replaces a sleep that a slow machine could make too short.
    """

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utc_now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

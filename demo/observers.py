"""What the demo watches, so every claim it prints is read from real state.

None of these change what the services do; each only records:

* `MessageTap` - queues of the demo's own on the broker, bound to the integration and the
  notification topics: every message that travelled, with the ids it carried;
* `CommandLog` - the records `LoggingMiddleware` writes for each command (its id, correlation
  and causation), which is how the demo sees commands inside both services;
* `CommitRecorder` - the COMMITs and SAVEPOINTs a database saw, and which task issued them;
* `LockWatch` - how long each lock acquisition of a lock strategy waited;
* `SpanLog` - the spans both services recorded (the core's tracing, kept in memory).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from billing_service import consumers as billing_consumers
from cqrs_ddd_core.observability import tracing
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.ports.messaging import IMessageConsumer
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from ordering_service import consumers as ordering_consumers

INTEGRATION_TOPICS = (
    *billing_consumers.TOPICS,
    *billing_consumers.CANCELLATION_TOPICS,
    *ordering_consumers.TOPICS,
)
"""The topics the two services exchange: what each one's consumer subscribes to."""
NOTIFICATION_TOPICS = "notifications.#"


@dataclass(frozen=True)
class Seen:
    """One message as it travelled: where it was routed and the ids it carried."""

    destination: str
    event_type: str
    event_id: str
    correlation_id: str | None
    causation_id: str | None
    payload: dict[str, Any]


@dataclass
class MessageTap:
    """Two queues of the demo's own: one for the integration topics, one for notifications."""

    consumer: IMessageConsumer
    queue_prefix: str = "demo.tap"
    seen: list[Seen] = field(default_factory=list)

    async def start(self) -> None:
        for topic in INTEGRATION_TOPICS:
            await self.consumer.subscribe(
                topic, self._integration, f"{self.queue_prefix}.integration"
            )
        await self.consumer.subscribe(
            NOTIFICATION_TOPICS, self._notification, f"{self.queue_prefix}.notifications"
        )

    async def stop(self) -> None:
        for topic in INTEGRATION_TOPICS:
            await self.consumer.unsubscribe(
                topic, self._integration, f"{self.queue_prefix}.integration"
            )
        await self.consumer.unsubscribe(
            NOTIFICATION_TOPICS, self._notification, f"{self.queue_prefix}.notifications"
        )

    async def _integration(self, payload: dict[str, Any]) -> None:
        self._record("integration", payload)

    async def _notification(self, payload: dict[str, Any]) -> None:
        self._record("notifications", payload)

    def _record(self, destination: str, payload: dict[str, Any]) -> None:
        self.seen.append(
            Seen(
                destination=destination,
                event_type=str(payload.get("event_type")),
                event_id=str(payload.get("event_id")),
                correlation_id=payload.get("correlation_id"),
                causation_id=payload.get("causation_id"),
                payload=payload,
            )
        )

    def of_story(self, correlation_id: str) -> list[Seen]:
        return [message for message in self.seen if message.correlation_id == correlation_id]

    def find(self, event_type: str, **fields: Any) -> list[Seen]:
        return [
            message
            for message in self.seen
            if message.event_type == event_type
            and all(message.payload.get(name) == value for name, value in fields.items())
        ]

    async def wait_for(
        self, event_type: str, *, count: int = 1, timeout: float = 15.0, **fields: Any
    ) -> list[Seen]:
        """The messages of ``event_type`` matching ``fields``, once ``count`` arrived."""
        async with asyncio.timeout(timeout):
            while len(found := self.find(event_type, **fields)) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        return found


@dataclass(frozen=True)
class LoggedCommand:
    name: str
    command_id: str
    correlation_id: str | None
    causation_id: str | None


class CommandLog(logging.Handler):
    """Keeps the "handling <Command>" records of `LoggingMiddleware` (logger
    ``cqrs_ddd_core.messages``, DEBUG), with the ids the middleware puts on each record."""

    LOGGER = "cqrs_ddd_core.messages"

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.commands: list[LoggedCommand] = []

    def install(self) -> None:
        logger = logging.getLogger(self.LOGGER)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # recorded here, not printed
        logger.addHandler(self)

    def uninstall(self) -> None:
        logging.getLogger(self.LOGGER).removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg != "handling %s" or not record.args:
            return
        name = str(record.args[0]) if isinstance(record.args, tuple) else str(record.args)
        if not name.endswith("Command"):
            return  # queries carry no story
        self.commands.append(
            LoggedCommand(
                name=name,
                command_id=str(getattr(record, "message_id", "")),
                correlation_id=getattr(record, "correlation_id", None),
                causation_id=getattr(record, "causation_id", None),
            )
        )

    def of_story(self, correlation_id: str) -> list[LoggedCommand]:
        return [command for command in self.commands if command.correlation_id == correlation_id]


@dataclass
class CommitRecorder:
    """COMMITs and SAVEPOINTs on one engine, each with the asyncio task that issued it."""

    engine: AsyncEngine
    statements: list[tuple[str, asyncio.Task[Any] | None]] = field(default_factory=list)

    def install(self) -> None:
        event.listen(self.engine.sync_engine, "commit", self._commit)
        event.listen(self.engine.sync_engine, "savepoint", self._savepoint)

    def uninstall(self) -> None:
        event.remove(self.engine.sync_engine, "commit", self._commit)
        event.remove(self.engine.sync_engine, "savepoint", self._savepoint)

    def _commit(self, connection: Any) -> None:
        self.statements.append(("COMMIT", _current_task()))

    def _savepoint(self, connection: Any, name: str) -> None:
        self.statements.append(("SAVEPOINT", _current_task()))

    @contextmanager
    def this_task(self) -> Iterator[dict[str, int]]:
        """Counts of the statements this task issues inside the block (filled in on exit)."""
        task = asyncio.current_task()
        start = len(self.statements)
        counts: dict[str, int] = {"COMMIT": 0, "SAVEPOINT": 0}
        try:
            yield counts
        finally:
            for kind, issuer in self.statements[start:]:
                if issuer is task:
                    counts[kind] += 1


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


@dataclass
class LockWatch:
    """Times every `acquire` of ``strategy`` (the very object the locking middleware holds)
    of the resources ``only`` names - a consumer handling an earlier order's message at the
    same moment takes locks of its own, which are not what is watched."""

    strategy: ILockStrategy
    only: set[str] = field(default_factory=set)
    """The resource ids to watch (all of them when empty)."""
    waits: list[float] = field(default_factory=list)
    most_waiting: int = 0
    """The most acquisitions in progress at one moment."""
    _waiting: int = 0
    _original: Callable[..., Awaitable[str]] | None = None

    def install(self) -> None:
        self._original = self.strategy.acquire

        async def timed_acquire(resource: ResourceIdentifier, **options: Any) -> str:
            assert self._original is not None
            if self.only and resource.resource_id not in self.only:
                return await self._original(resource, **options)
            started = time.perf_counter()
            self._waiting += 1
            self.most_waiting = max(self.most_waiting, self._waiting)
            try:
                return await self._original(resource, **options)
            finally:
                self._waiting -= 1
                self.waits.append(time.perf_counter() - started)

        # An instance attribute shadows the method for this one object, and only while watched.
        self.strategy.acquire = timed_acquire  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if "acquire" in vars(self.strategy):
            del self.strategy.acquire


class SpanLog:
    """The spans of both services, kept in this process's memory instead of exported.

    Installed before the services' apps are built, so HTTP requests are traced too.
    """

    def __init__(self) -> None:
        self._exporter = InMemorySpanExporter()
        self._provider = TracerProvider()
        self._provider.add_span_processor(SimpleSpanProcessor(self._exporter))

    def install(self) -> None:
        tracing.install(self._provider)

    def uninstall(self) -> None:
        tracing.uninstall()
        self._provider.shutdown()

    def spans(self) -> tuple[ReadableSpan, ...]:
        return self._exporter.get_finished_spans()

"""`InMemoryBroker`: an in-process message broker with RabbitMQ's topic-exchange semantics.

It is the embedded default (the demo, most tests), so it behaves like the real thing where it
matters: a **queue per consumer group** (``queue_name``) bound to topic patterns (``*`` is one
word, ``#`` any number); subscribers sharing a queue **compete** (one gets each message);
every queue gets **its own copy**. A handler that raises has **not** processed the message: it is
redelivered after ``redelivery_delay``, up to ``max_deliveries`` deliveries, then moved to the
**dead-letter queue** with its headers and the reason. A poison message (`is_poison`: a
body too deep to decode, an unknown type, fields that do not hydrate, a value the database
refuses as data) goes there at once -
retrying cannot fix a malformed message, and the RabbitMQ consumer treats it the same way.
Messages travel as JSON text, so a handler gets a fresh copy and a payload that is not JSON
fails at publish, as it would on the wire.

Made to be watched and broken in tests: `dead_letters`, `delivered_count`, `drain`, and fault
injection (`fail_next_publishes`, `take_down` / `bring_up`) to prove an outage loses nothing.
``mandatory=True`` (the default) makes a publish that reaches no queue fail, like an aio-pika
channel with ``on_return_raises``: the outbox keeps the row and retries instead of losing it.
Scenarios: features/core/consumers.feature, features/core/dead_letters.feature.
Guide: docs/components/consumers.md, docs/patterns/inbox-and-dead-letters.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.observability import metrics, tracing
from cqrs_ddd_core.ports.messaging import IMessageConsumer, IMessagePublisher, MessageHandler
from cqrs_ddd_core.ports.outbox import utc_now
from cqrs_ddd_core.primitives.exceptions import PoisonMessageError, PublishError, is_poison
from cqrs_ddd_core.primitives.ids import new_id
from cqrs_ddd_core.primitives.topics import topic_matches

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Envelope:
    """A message as it travels: the body (JSON text) and its headers."""

    topic: str
    body: str
    message_id: str
    correlation_id: str | None = None
    causation_id: str | None = None
    headers: dict[str, Any] = field(default_factory=dict)

    @property
    def payload(self) -> dict[str, Any]:
        """A fresh decoded copy of the body; `PoisonMessageError` if it cannot be one."""
        try:
            decoded: dict[str, Any] = json.loads(self.body)
        except (RecursionError, ValueError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise PoisonMessageError(
                f"message {self.message_id!r} cannot be decoded: {reason}",
                message_id=self.message_id,
            ) from None
        return decoded


@dataclass(frozen=True)
class DeadLetter:
    """A message a queue gave up on, kept with its headers and why."""

    queue: str
    envelope: Envelope
    reason: str
    deliveries: int
    dead_at: datetime = field(default_factory=utc_now)

    @property
    def message_id(self) -> str:
        return self.envelope.message_id

    @property
    def payload(self) -> dict[str, Any]:
        return self.envelope.payload

    @property
    def headers(self) -> dict[str, Any]:
        return {
            **self.envelope.headers,
            "message_id": self.envelope.message_id,
            "correlation_id": self.envelope.correlation_id,
            "causation_id": self.envelope.causation_id,
            "x-delivery-count": self.deliveries,
            "x-death-reason": self.reason,
        }


@dataclass
class _Delivery:
    envelope: Envelope
    count: int = 0
    """Deliveries so far (1 on the first attempt)."""


@dataclass
class _Worker:
    handler: MessageHandler
    topic: str
    task: asyncio.Task[None] | None = None
    busy: bool = False
    active: bool = True


@dataclass
class _Queue:
    name: str
    exclusive: bool
    bindings: set[str] = field(default_factory=set)
    messages: asyncio.Queue[_Delivery] = field(default_factory=asyncio.Queue)
    workers: list[_Worker] = field(default_factory=list)
    delivered: int = 0
    scheduled: dict[asyncio.TimerHandle, _Delivery] = field(default_factory=dict)

    @property
    def idle(self) -> bool:
        return (
            self.messages.empty()
            and not self.scheduled
            and not any(worker.busy for worker in self.workers)
        )


class InMemoryBroker(IMessagePublisher, IMessageConsumer):
    """One topic exchange, its queues and their consumers, inside this process."""

    def __init__(
        self,
        *,
        max_deliveries: int = 5,
        redelivery_delay: float = 0.01,
        mandatory: bool = True,
        publish_delay: float = 0.0,
    ) -> None:
        self.max_deliveries = max_deliveries
        self.redelivery_delay = redelivery_delay
        self.mandatory = mandatory
        self.publish_delay = publish_delay
        """Seconds each publish waits, as a network round trip would (0: just yields)."""
        self.published: list[Envelope] = []
        self._queues: dict[str, _Queue] = {}
        self._routes: dict[str, list[_Queue]] = {}
        self._dead: list[DeadLetter] = []
        self._fail_next = 0
        self._failure: Callable[[], Exception] = _unavailable
        self._down = False

    # --- publishing ----------------------------------------------------------------------

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        """Route ``message`` (a `DomainEvent` or a JSON-able dict) to every bound queue.

        ``kwargs``: ``message_id`` (default: the event's id, else a new one),
        ``correlation_id``, ``causation_id`` and ``headers`` travel with it.
        """
        await asyncio.sleep(self.publish_delay)
        if self._down:
            raise self._failure()
        if self._fail_next > 0:
            self._fail_next -= 1
            raise self._failure()
        payload = message.to_payload() if isinstance(message, DomainEvent) else message
        envelope = Envelope(
            topic=topic,
            body=json.dumps(payload),
            message_id=kwargs.get("message_id") or payload.get("event_id") or new_id(),
            correlation_id=kwargs.get("correlation_id") or payload.get("correlation_id"),
            causation_id=kwargs.get("causation_id") or payload.get("causation_id"),
            headers=dict(kwargs.get("headers") or {}),
        )
        queues = self._route(topic)
        if not queues and self.mandatory:
            raise PublishError(
                f"No queue is bound to topic {topic!r}: subscribe a consumer (or call "
                f"declare_queue) before publishing, or build the broker with mandatory=False"
            )
        self.published.append(envelope)
        for queue in queues:
            queue.messages.put_nowait(_Delivery(envelope))

    def _route(self, topic: str) -> list[_Queue]:
        queues = self._routes.get(topic)
        if queues is None:
            queues = [
                queue
                for queue in self._queues.values()
                if any(topic_matches(pattern, topic) for pattern in queue.bindings)
            ]
            self._routes[topic] = queues
        return queues

    # --- consuming -----------------------------------------------------------------------

    def declare_queue(self, queue_name: str, topics: list[str]) -> None:
        """Create a durable queue bound to ``topics`` now, so it keeps messages until consumed."""
        queue = self._queue(queue_name, exclusive=False)
        queue.bindings.update(topics)
        self._routes.clear()

    async def subscribe(
        self,
        topic: str,
        handler: MessageHandler,
        queue_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Bind ``topic`` to the queue ``queue_name`` and consume it with ``handler``.

        Without a queue name the subscription gets a private queue (its own copy of every
        message). ``prefetch`` (kwarg, default 1) is how many messages this subscriber handles
        at once. There is one exchange, so ``exchange_name`` is accepted and not needed.
        """
        queue = self._queue(queue_name or f"exclusive-{new_id()}", exclusive=queue_name is None)
        queue.bindings.add(topic)
        self._routes.clear()
        for _ in range(int(kwargs.get("prefetch", 1))):
            worker = _Worker(handler, topic)
            worker.task = asyncio.create_task(
                self._consume(queue, worker), name=f"consumer:{queue.name}"
            )
            queue.workers.append(worker)

    async def unsubscribe(
        self, topic: str, handler: MessageHandler, queue_name: str | None = None
    ) -> None:
        """Stop ``handler``'s consumption of ``topic``; a message in its hands is finished.

        The queue and its bindings stay (messages keep arriving for the group's other members
        or the next subscriber); a private queue is deleted with its last subscriber.
        """
        for queue in list(self._queues.values()):
            if queue_name is not None and queue.name != queue_name:
                continue
            leaving = [w for w in queue.workers if w.handler == handler and w.topic == topic]
            await _stop_workers(leaving)
            queue.workers = [w for w in queue.workers if w not in leaving]
            if queue.exclusive and leaving and not queue.workers:
                del self._queues[queue.name]
                self._routes.clear()

    def _queue(self, name: str, *, exclusive: bool) -> _Queue:
        queue = self._queues.get(name)
        if queue is None:
            queue = self._queues[name] = _Queue(name, exclusive)
        return queue

    async def _consume(self, queue: _Queue, worker: _Worker) -> None:
        while worker.active:
            delivery = await queue.messages.get()
            worker.busy = True  # no await since get(): stop() sees the message in our hands
            try:
                await self._deliver(queue, worker, delivery)
            except asyncio.CancelledError:
                queue.messages.put_nowait(delivery)  # never lost: back to the queue
                raise
            finally:
                worker.busy = False

    async def _deliver(self, queue: _Queue, worker: _Worker, delivery: _Delivery) -> None:
        envelope = delivery.envelope
        with tracing.consuming(
            "in-memory",
            envelope.topic,
            envelope.message_id,
            envelope.headers,
            queue=queue.name,
            correlation_id=envelope.correlation_id,
            causation_id=envelope.causation_id,
        ):
            await self._deliver_once(queue, worker, delivery)

    async def _deliver_once(self, queue: _Queue, worker: _Worker, delivery: _Delivery) -> None:
        delivery.count += 1
        try:
            await worker.handler(delivery.envelope.payload)
        except Exception as exc:
            tracing.failed(exc)
            if is_poison(exc):
                self._dead_letter(queue, delivery, f"poison message: {exc}")
                return
            reason = f"{type(exc).__name__}: {exc}"
            if delivery.count >= self.max_deliveries:
                self._dead_letter(
                    queue, delivery, f"handler failed {delivery.count} times; last: {reason}"
                )
                return
            logger.warning(
                "%s: message %s failed (delivery %d), redelivering: %s",
                queue.name,
                delivery.envelope.message_id,
                delivery.count,
                reason,
            )
            self._schedule_redelivery(queue, delivery)
        else:
            queue.delivered += 1

    def _schedule_redelivery(self, queue: _Queue, delivery: _Delivery) -> None:
        def redeliver() -> None:
            queue.scheduled.pop(handle, None)
            queue.messages.put_nowait(delivery)

        handle = asyncio.get_running_loop().call_later(self.redelivery_delay, redeliver)
        queue.scheduled[handle] = delivery

    def _dead_letter(self, queue: _Queue, delivery: _Delivery, reason: str) -> None:
        tracing.dead_lettered(reason)
        metrics.consumer_dead_lettered(queue.name)
        logger.error(
            "%s: message %s (%s) dead-lettered: %s",
            queue.name,
            delivery.envelope.message_id,
            delivery.envelope.topic,
            reason,
        )
        self._dead.append(DeadLetter(queue.name, delivery.envelope, reason, delivery.count))

    # --- observing -----------------------------------------------------------------------

    def dead_letters(self, queue_name: str | None = None) -> list[DeadLetter]:
        """The dead-letter queue (of one queue, or all), oldest first."""
        return [d for d in self._dead if queue_name is None or d.queue == queue_name]

    def delivered_count(self, queue_name: str | None = None) -> int:
        """Messages handled successfully (acknowledged), in one queue or all."""
        return sum(
            queue.delivered
            for queue in self._queues.values()
            if queue_name is None or queue.name == queue_name
        )

    def queue_depth(self, queue_name: str) -> int:
        """Messages waiting in a queue (not counting those being handled)."""
        queue = self._queues.get(queue_name)
        return queue.messages.qsize() + len(queue.scheduled) if queue is not None else 0

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until every consumed queue is empty and idle; `TimeoutError` after ``timeout``."""
        async with asyncio.timeout(timeout):
            # Idleness spans many queues and timers: polling reads simpler than events.
            while not all(queue.idle for queue in self._queues.values() if queue.workers):  # noqa: ASYNC110
                await asyncio.sleep(0.002)

    async def stop(self) -> None:
        """Stop every consumer gracefully: in-flight messages finish, waiting ones stay queued."""
        for queue in self._queues.values():
            await _stop_workers(queue.workers)
            queue.workers = []
            for handle, delivery in list(queue.scheduled.items()):
                handle.cancel()
                queue.messages.put_nowait(delivery)
            queue.scheduled.clear()

    # --- breaking it on purpose ----------------------------------------------------------

    def fail_next_publishes(self, count: int, error: Callable[[], Exception] | None = None) -> None:
        """Make the next ``count`` publishes raise (``ConnectionError`` by default)."""
        self._fail_next = count
        self._failure = error or _unavailable

    def take_down(self) -> None:
        """Every publish fails until `bring_up` - a broker outage."""
        self._down = True

    def bring_up(self) -> None:
        self._down = False


async def _stop_workers(workers: list[_Worker]) -> None:
    for worker in workers:
        worker.active = False
        if worker.task is not None and not worker.busy:
            worker.task.cancel()  # waiting in get(): no message is in its hands
    for worker in workers:
        if worker.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await worker.task


def _unavailable() -> Exception:
    return ConnectionError("broker unavailable (injected fault)")

"""`RabbitMQConsumer`: `IMessageConsumer` on RabbitMQ - manual acks, delayed retries, dead letters.

Pattern: an at-least-once competing consumer. The one thing to notice: a message is
acknowledged only after its handler returned. A handler that raises has the message
rejected into the retry queue (back after ``retry_delay``, see `QueueTopology`); after
``max_attempts`` - or at once for a poison message (`is_poison`: a body that is not a JSON
object, an unknown type, ids or values no handler or database can take) - a copy carrying
the reason is published to the dead-letter queue, confirmed, and only then is the original
acknowledged. A handler cut short (connection lost,
task cancelled) acknowledges nothing: the broker redelivers the message.

One queue per ``queue_name``: several topics subscribed under one name are several bindings
of one queue and one consume loop, which dispatches on the message ``type`` (a retried
message comes back with the queue's name as routing key, so the key cannot be trusted).
Replicas subscribing with the same queue name compete for its messages; another queue name
gets its own copy of each.

Attempts are counted by the broker (``x-death``: one per pass through the retry queue). A
message whose consumer was lost mid-handling (process killed, link cut) comes back with
``redelivered`` set and no outcome recorded; that lost attempt is counted too, by sending it
round the retry queue before it is handled again. Otherwise a message that crashes every
consumer taking it would go round forever. The price: a redelivery waits ``retry_delay``, and
the flag cannot tell the crasher from the messages in flight beside it (or handed back by a
stopping consumer): each of those spends an attempt too.
Guide: docs/components/consumers.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aio_pika.abc import (
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)

from cqrs_ddd_core.adapters.rabbitmq.connection import BrokerConnection
from cqrs_ddd_core.adapters.rabbitmq.dead_letters import (
    DeadLetter,
    dead_letter_copy,
    read_dead_letters,
    replay_dead_letters,
)
from cqrs_ddd_core.adapters.rabbitmq.envelope import decode, original_topic, previous_attempts
from cqrs_ddd_core.adapters.rabbitmq.publisher import LINK_ERRORS
from cqrs_ddd_core.adapters.rabbitmq.topology import QueueTopology
from cqrs_ddd_core.observability import metrics, tracing
from cqrs_ddd_core.ports.messaging import IMessageConsumer, MessageHandler
from cqrs_ddd_core.primitives.context import message_context
from cqrs_ddd_core.primitives.exceptions import is_poison
from cqrs_ddd_core.primitives.topics import topic_matches

logger = logging.getLogger(__name__)


CANCEL_ERRORS: tuple[type[BaseException], ...] = (TimeoutError, *LINK_ERRORS)
"""What cancelling or closing may meet when the broker is slow or away: logged, not raised."""


class DeliveryLostError(RuntimeError):
    """A delivery was never settled: the consumer handling it was lost (killed, cut off)."""


class NoHandlerError(LookupError):
    """A message reached a queue that has no handler for its type or topic (yet).

    Retried like a handler failure, not treated as poison: while a service starts, its
    queue may deliver a message before the subscription for that topic is registered.
    """


@dataclass
class _Subscription:
    """One work queue: its topology, its handlers by topic, its consumer tag."""

    topology: QueueTopology
    queue: AbstractQueue
    handlers: dict[str, MessageHandler] = field(default_factory=dict)
    consumer_tag: str | None = None
    active: bool = False
    """True from just before ``basic.consume`` until the consumer is cancelled."""


class RabbitMQConsumer(IMessageConsumer):
    """Consumes topic exchange ``exchange_name`` into durable queues, one per queue name.

    ``connection`` is an AMQP URL (the consumer opens a robust connection on first use and
    `stop` closes it) or an open robust connection shared with others. At most
    ``prefetch_count`` messages are handled at once (concurrently, in no particular order).
    """

    def __init__(
        self,
        connection: str | AbstractRobustConnection,
        exchange_name: str = "events",
        *,
        prefetch_count: int = 16,
        max_attempts: int = 5,
        retry_delay: float = 1.0,
        confirm_timeout: float = 10.0,
        stop_timeout: float = 30.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self.exchange_name = exchange_name
        self._connection = BrokerConnection(connection, name=f"consumer:{exchange_name}")
        self._prefetch_count = prefetch_count
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._confirm_timeout = confirm_timeout
        self._stop_timeout = stop_timeout
        self._subscriptions: dict[str, _Subscription] = {}
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._channel: AbstractRobustChannel | None = None
        self._dead_letter_channel: AbstractRobustChannel | None = None
        self._stopping = False
        self._lock = asyncio.Lock()
        self._dead_letter_lock = asyncio.Lock()  # its own: stop() holds _lock while handlers finish

    # --- IMessageConsumer -----------------------------------------------------------------

    async def subscribe(
        self,
        topic: str,
        handler: MessageHandler,
        queue_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Bind queue ``queue_name`` to ``topic`` and start delivering its messages to ``handler``.

        Without a queue name the queue is ``<exchange>.<topic>``, shared by every subscriber
        that names none. (`InMemoryBroker` gives such a subscriber a private queue; on a real
        broker a private queue would lose what is published while its process is down, so
        name the queue after the service.) ``exchange_name=`` binds to another topic exchange.
        """
        exchange_name = self._exchange_option(topic, kwargs)
        async with self._lock:
            if self._stopping:
                raise RuntimeError(f"Cannot subscribe {topic!r}: the consumer was stopped")
            subscription = await self._declare(queue_name or f"{self.exchange_name}.{topic}")
            current = subscription.handlers.get(topic)
            if current is not None and current != handler:
                raise ValueError(
                    f"Queue {subscription.topology.queue_name!r} already has a handler for "
                    f"topic {topic!r}; one queue dispatches each topic to one handler"
                )
            subscription.handlers[topic] = handler
            await subscription.topology.bind(
                await self._open(), subscription.queue, topic, exchange_name
            )
            if subscription.consumer_tag is None:
                subscription.active = True  # deliveries may arrive before consume() returns
                subscription.consumer_tag = await subscription.queue.consume(
                    partial(self._on_message, subscription)
                )

    async def unsubscribe(
        self, topic: str, handler: MessageHandler, queue_name: str | None = None
    ) -> None:
        """Stop delivering ``topic`` to ``handler``; a queue left without handlers stops
        consuming. Queue and bindings stay: messages keep arriving for the other replicas or
        the next subscriber, nothing published meanwhile is lost."""
        async with self._lock:
            name = queue_name or f"{self.exchange_name}.{topic}"
            subscription = self._subscriptions.get(name)
            if subscription is None or subscription.handlers.get(topic) != handler:
                return
            del subscription.handlers[topic]
            if not subscription.handlers and subscription.consumer_tag is not None:
                await self._cancel(subscription)

    async def declare_queue(self, queue_name: str, topics: list[str], **kwargs: Any) -> None:
        """Declare durable queue ``queue_name`` bound to ``topics`` without consuming it, so it
        keeps what is published until its consumer starts (e.g. in a deployment step)."""
        async with self._lock:
            subscription = await self._declare(queue_name)
            for topic in topics:
                exchange_name = self._exchange_option(topic, dict(kwargs))
                await subscription.topology.bind(
                    await self._open(), subscription.queue, topic, exchange_name
                )

    def _exchange_option(self, topic: str, options: dict[str, Any]) -> str:
        exchange_name = str(options.pop("exchange_name", None) or self.exchange_name)
        if options:
            raise TypeError(
                f"Unknown subscribe option(s) {sorted(options)} for topic {topic!r}; "
                f"RabbitMQConsumer understands queue_name and exchange_name (set prefetch_count "
                f"on the consumer)"
            )
        return exchange_name

    async def _declare(self, queue_name: str) -> _Subscription:
        subscription = self._subscriptions.get(queue_name)
        if subscription is None:
            topology = QueueTopology(queue_name, self._retry_delay)
            subscription = _Subscription(topology, await topology.declare(await self._open()))
            self._subscriptions[queue_name] = subscription
        return subscription

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def link_up(self) -> bool:
        """Whether the link to RabbitMQ is open now (it opens with the first subscription)."""
        return self._connection.link_up

    async def stop(self) -> None:
        """Stop gracefully: no new deliveries, let in-flight handlers finish, then close.

        Cancelling the handlers instead would leave their messages unacknowledged (they
        come back, but only after the connection closes) - so they get ``stop_timeout``.
        """
        async with self._lock:
            self._stopping = True
            for subscription in self._subscriptions.values():
                if subscription.consumer_tag is not None:
                    await self._cancel(subscription)
        in_flight = set(self._in_flight)
        if in_flight:
            _, unfinished = await asyncio.wait(in_flight, timeout=self._stop_timeout)
            if unfinished:
                logger.warning(
                    "%d handler(s) still running after %ss; their messages stay "
                    "unacknowledged and will be redelivered",
                    len(unfinished),
                    self._stop_timeout,
                )
        for channel in (self._dead_letter_channel, self._channel):
            if channel is not None and not channel.is_closed:
                with contextlib.suppress(*CANCEL_ERRORS):
                    async with asyncio.timeout(self._confirm_timeout):
                        await channel.close()
        self._channel = self._dead_letter_channel = None
        await self._connection.close()

    async def close(self) -> None:
        """The same as `stop`."""
        await self.stop()

    # --- dead letters, for tests, the demo and operators ----------------------------------

    async def dead_letters(self, queue_name: str, *, limit: int = 100) -> list[DeadLetter]:
        """The dead letters of ``queue_name``, oldest first; they stay in their queue."""
        return await read_dead_letters(await self._connection.get(), queue_name, limit=limit)

    async def take_dead_letters(self, queue_name: str, *, limit: int = 100) -> list[DeadLetter]:
        """The dead letters of ``queue_name``, removed from their queue."""
        return await read_dead_letters(
            await self._connection.get(), queue_name, limit=limit, remove=True
        )

    async def replay_dead_letters(self, queue_name: str, *, limit: int = 100) -> int:
        """Send the dead letters of ``queue_name`` back to it for another round of attempts."""
        return await replay_dead_letters(await self._connection.get(), queue_name, limit=limit)

    # --- delivery -------------------------------------------------------------------------

    async def _on_message(
        self, subscription: _Subscription, message: AbstractIncomingMessage
    ) -> None:
        if self._stopping or not subscription.active:
            # Delivered while we stop consuming: straight back to the queue, for a replica.
            await settle(message.nack(requeue=True), message)
            return
        task = asyncio.current_task()
        assert task is not None
        self._in_flight.add(task)
        try:
            with tracing.consuming(
                "rabbitmq",
                original_topic(message, subscription.topology.queue_name),
                message.message_id,
                message.headers,
                queue=subscription.topology.queue_name,
                correlation_id=message.correlation_id,
            ):
                await self._process(subscription, message)
        finally:
            self._in_flight.discard(task)

    async def _process(self, subscription: _Subscription, message: AbstractIncomingMessage) -> None:
        queue_name = subscription.topology.queue_name
        topic = original_topic(message, queue_name)
        attempt = previous_attempts(message, queue_name) + 1
        if message.redelivered:
            await self._count_lost_attempt(subscription, message, topic, attempt)
            return
        try:
            payload = decode(message)
            handler = self._handler_for(subscription, message, topic)
            causation_id = payload.get("event_id") or message.message_id
            with message_context(message.correlation_id, causation_id):
                await handler(payload)
        except Exception as exc:
            # CancelledError is not an Exception: a cancelled handler settles nothing.
            tracing.failed(exc)
            if is_poison(exc):
                await self._dead_letter(subscription, message, exc, topic, attempt, poison=True)
                return
            if attempt >= self._max_attempts:
                await self._dead_letter(subscription, message, exc, topic, attempt, poison=False)
                return
            logger.warning(
                "Handling %s %s on %s failed (attempt %d of %d), retrying in %ss: %r",
                message.type,
                message.message_id,
                queue_name,
                attempt,
                self._max_attempts,
                self._retry_delay,
                exc,
            )
            # The queue dead-letters it to its retry queue, which sends it back after the delay.
            await settle(message.reject(requeue=False), message)
        else:
            await settle(message.ack(), message)

    async def _count_lost_attempt(
        self,
        subscription: _Subscription,
        message: AbstractIncomingMessage,
        topic: str,
        attempt: int,
    ) -> None:
        """``attempt`` was handed to a consumer that was lost before settling it: count it."""
        queue_name = subscription.topology.queue_name
        if attempt >= self._max_attempts:
            error = DeliveryLostError(
                f"attempt {attempt} was never settled: the consumer handling it was lost "
                f"(killed or cut off) - a message that keeps doing this may crash its consumer"
            )
            await self._dead_letter(subscription, message, error, topic, attempt, poison=False)
            return
        logger.warning(
            "%s %s on %s was redelivered: the consumer handling attempt %d of %d was lost; "
            "counted as failed, back in %ss",
            message.type,
            message.message_id,
            queue_name,
            attempt,
            self._max_attempts,
            self._retry_delay,
        )
        await settle(message.reject(requeue=False), message)

    def _handler_for(
        self, subscription: _Subscription, message: AbstractIncomingMessage, topic: str
    ) -> MessageHandler:
        handlers = subscription.handlers
        for key in (message.type, topic):
            if key is not None and key in handlers:
                return handlers[key]
        for pattern, handler in handlers.items():
            if topic_matches(pattern, topic):
                return handler
        raise NoHandlerError(
            f"Queue {subscription.topology.queue_name!r} has no handler for type "
            f"{message.type!r} (topic {topic!r}); it subscribes {sorted(handlers)}"
        )

    async def _dead_letter(
        self,
        subscription: _Subscription,
        message: AbstractIncomingMessage,
        error: BaseException,
        topic: str,
        attempts: int,
        *,
        poison: bool,
    ) -> None:
        queue_name = subscription.topology.queue_name
        copy = dead_letter_copy(
            message,
            error=error,
            queue_name=queue_name,
            topic=topic,
            attempts=attempts,
            poison=poison,
        )
        try:
            exchange = await self._dead_letter_exchange()
            # mandatory: a dead-letter queue that vanished must fail loudly, not drop it.
            await exchange.publish(
                copy,
                routing_key=subscription.topology.dead_letter_queue_name,
                mandatory=True,
                timeout=self._confirm_timeout,
            )
        except Exception as publish_error:
            logger.error(
                "Could not dead-letter %s %s from %s (%r); it goes round the retry queue "
                "and is tried again",
                message.type,
                message.message_id,
                queue_name,
                publish_error,
            )
            await settle(message.reject(requeue=False), message)
            return
        tracing.dead_lettered(str(copy.headers.get("x-dead-letter-reason")))
        metrics.consumer_dead_lettered(queue_name)
        logger.error(
            "Dead-lettered %s %s from %s: %s",
            message.type,
            message.message_id,
            queue_name,
            copy.headers.get("x-dead-letter-reason"),
        )
        await settle(message.ack(), message)

    # --- channels -------------------------------------------------------------------------

    async def _cancel(self, subscription: _Subscription) -> None:
        """Tell the broker to stop delivering to this queue's consumer."""
        assert subscription.consumer_tag is not None
        subscription.active = False
        link_up = self._channel is not None and not self._channel.is_closed
        try:
            # A robust queue forgets the consumer before it talks to the broker, so even
            # with the link down it is not restored on reconnect: wait only for a live link.
            async with asyncio.timeout(self._confirm_timeout if link_up else 0):
                await subscription.queue.cancel(subscription.consumer_tag)
        except CANCEL_ERRORS as exc:
            logger.warning(
                "Cancelling the consumer of %s: %r", subscription.topology.queue_name, exc
            )
        subscription.consumer_tag = None

    async def _open(self) -> AbstractRobustChannel:
        if self._channel is None:
            connection = await self._connection.get()
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self._prefetch_count)
            self._channel = channel
        return self._channel

    async def _dead_letter_exchange(self) -> AbstractExchange:
        """The default exchange on a channel of its own, with confirms and returns."""
        async with self._dead_letter_lock:  # handlers dead-letter concurrently: open it once
            if self._dead_letter_channel is None:
                connection = await self._connection.get()
                self._dead_letter_channel = await connection.channel(
                    publisher_confirms=True, on_return_raises=True
                )
        return self._dead_letter_channel.default_exchange


async def settle(settlement: Any, message: AbstractIncomingMessage) -> None:
    """Await an ack or reject; if the channel is gone, the broker redelivers the message."""
    try:
        await settlement
    except LINK_ERRORS as exc:
        logger.warning(
            "Could not settle %s %s (%r): the broker will deliver it again",
            message.type,
            message.message_id,
            exc,
        )

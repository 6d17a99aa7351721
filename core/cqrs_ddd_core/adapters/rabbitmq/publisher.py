"""`RabbitMQPublisher`: `IMessagePublisher` on a durable topic exchange, with publisher confirms.

Pattern: the broker side of the transactional outbox. The one thing to notice: ``publish``
returns only after the broker **confirmed** the message (persistent, so it survives a broker
restart), which is what lets the outbox relay mark its row published. A broker nack, a
return, a missing confirm or a lost connection all raise `PublishError`: the row stays
pending and is retried. A lost confirm means "unknown" - the message may be queued already -
so a retry can duplicate it, and the consumer's inbox absorbs that (at-least-once delivery).

Unroutable messages: the routing key is the topic. By default a message is published with
``mandatory=True`` on a channel opened with ``on_return_raises=True``, so a topic no queue is
bound to raises `PublishError` instead of "succeeding" while the broker drops it. The events
this publisher carries are integration events that some service consumes: when its queue does
not exist yet (that service was never started), the outbox keeps the row and retries until it
does - the same contract as `InMemoryBroker`. A consumer can declare its queue ahead with
`RabbitMQConsumer.declare_queue`. For fire-and-forget fan-out, where no subscriber is normal,
pass ``mandatory=False``: the broker then drops an unroutable message silently.

Many publishes may run at once (``asyncio.gather``): each awaits its own confirm on the one
channel (pipelining). Guide: docs/components/publishers.md.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aio_pika
import aio_pika.exceptions as amqp_errors
from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection

from cqrs_ddd_core.adapters.rabbitmq.connection import BrokerConnection
from cqrs_ddd_core.adapters.rabbitmq.envelope import encode
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from cqrs_ddd_core.primitives.exceptions import PublishError

logger = logging.getLogger(__name__)

# Raised by a publish whose connection or channel dropped (or was down already).
# ChannelInvalidStateError is a RuntimeError, not an AMQPError.
LINK_ERRORS: tuple[type[BaseException], ...] = (
    amqp_errors.AMQPConnectionError,
    amqp_errors.ChannelInvalidStateError,
    amqp_errors.ChannelClosed,
    ConnectionError,
)


class RabbitMQPublisher(IMessagePublisher):
    """Publishes JSON messages to topic exchange ``exchange_name`` with routing key = topic.

    ``connection`` is an AMQP URL (the publisher opens a robust connection on first use and
    `close` closes it) or an open robust connection shared with others.
    """

    def __init__(
        self,
        connection: str | AbstractRobustConnection,
        exchange_name: str = "events",
        *,
        mandatory: bool = True,
        confirm_timeout: float = 10.0,
        reconnect_timeout: float = 30.0,
        max_attempts: int = 3,
    ) -> None:
        self.exchange_name = exchange_name
        self._connection = BrokerConnection(connection, name=f"publisher:{exchange_name}")
        self._mandatory = mandatory
        self._confirm_timeout = confirm_timeout
        self._reconnect_timeout = reconnect_timeout
        self._max_attempts = max_attempts
        self._channel: AbstractRobustChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        """Open the channel and declare the exchange (done by the first publish otherwise)."""
        await self._open()

    @property
    def link_down(self) -> bool:
        """Whether the link to RabbitMQ was opened and is down now (False before first use)."""
        return self._connection.opened and not self._connection.link_up

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        """Publish ``message`` under ``topic`` and wait for the broker's confirm.

        ``kwargs``: ``message_id``, ``correlation_id``, ``causation_id``, ``headers``.
        Raises `PublishError` when the broker did not confirm the message.
        """
        amqp_message = encode(topic, message, **kwargs)
        exchange = await self._open()
        for attempt in range(1, self._max_attempts + 1):
            try:
                await exchange.publish(
                    amqp_message,
                    routing_key=topic,
                    mandatory=self._mandatory,
                    timeout=self._confirm_timeout,
                )
                return
            except amqp_errors.PublishError as exc:  # a Basic.Return: no queue bound
                raise PublishError(
                    f"RabbitMQ returned {amqp_message.type!r} (message {amqp_message.message_id})"
                    f": no queue is bound to topic {topic!r} on exchange "
                    f"{self.exchange_name!r}; start its consumer (or declare its queue) first, "
                    f"or build the publisher with mandatory=False"
                ) from exc
            except amqp_errors.DeliveryError as exc:  # a Basic.Nack
                raise PublishError(
                    f"RabbitMQ refused {amqp_message.type!r} (message "
                    f"{amqp_message.message_id}) on exchange {self.exchange_name!r}: "
                    f"{exc}; it will be retried"
                ) from exc
            except TimeoutError as exc:
                raise PublishError(
                    f"No confirm for {amqp_message.type!r} (message {amqp_message.message_id}) "
                    f"within {self._confirm_timeout}s: it may or may not be queued; a retry can "
                    f"duplicate it and the consumer's inbox absorbs that"
                ) from exc
            except LINK_ERRORS as exc:
                if attempt == self._max_attempts:
                    raise PublishError(
                        f"Could not publish {amqp_message.type!r} (message "
                        f"{amqp_message.message_id}) to exchange {self.exchange_name!r} after "
                        f"{attempt} attempts: the connection to RabbitMQ is down ({exc!r})"
                    ) from exc
                logger.warning(
                    "Publishing %s lost the link to RabbitMQ (%r); waiting for it to come back",
                    amqp_message.message_id,
                    exc,
                )
                await self._wait_ready()
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        """Close the channel, and the connection if this publisher opened it."""
        async with self._lock:
            if self._channel is not None and not self._channel.is_closed:
                await self._channel.close()
            self._channel = None
            self._exchange = None
        await self._connection.close()

    async def _open(self) -> AbstractExchange:
        async with self._lock:
            if self._exchange is None:
                connection = await self._connection.get()
                channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
                assert isinstance(channel, aio_pika.RobustChannel)
                self._exchange = await channel.declare_exchange(
                    self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
                )
                self._channel = channel
            return self._exchange

    async def _wait_ready(self) -> None:
        """Wait until the robust connection has reopened the channel (bounded)."""
        assert self._channel is not None
        try:
            async with asyncio.timeout(self._reconnect_timeout):
                await self._channel.ready()
                # The connection is marked ready before its channels are restored, and
                # aio-pika signals no "channel restored" event: poll briefly.
                while self._channel.is_closed:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        except TimeoutError as exc:
            raise PublishError(
                f"RabbitMQ did not come back within {self._reconnect_timeout}s for exchange "
                f"{self.exchange_name!r}; the outbox keeps the message and retries later"
            ) from exc

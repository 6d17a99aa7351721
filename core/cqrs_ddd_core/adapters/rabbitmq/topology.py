"""`QueueTopology`: the queues behind one subscribed queue name - work, retry, dead letters.

Pattern: delayed retry and dead-lettering without broker plugins. For a work queue ``Q``::

    topic exchange --(topic)--> Q --rejected--> Q.retry   (via the default exchange)
                                ^                  |
                                +------------------+  after x-message-ttl, key Q
    Q --our copy, with the reason--> Q.dead-letter  (published, confirmed, then Q's acked)

Every hop after the topic exchange goes through the *default* exchange, which routes by queue
name. The one thing to notice: the retry queue dead-letters back with ``Q`` as the routing
key, so only ``Q`` gets the message again. Dead-lettering back to the topic exchange would hand
a copy to every other subscriber of the topic. And since no queue argument names the topic
exchange, the same queue can be bound to several exchanges. The broker counts the rejections
in the ``x-death`` header, which gives the attempt number.

The delay is the retry queue's ``x-message-ttl``: one delay per queue (a per-message TTL would
wait behind the head of the queue). RabbitMQ refuses to redeclare a queue with other
arguments, so changing ``retry_delay`` of an existing queue means deleting its retry queue.
Guide: docs/components/consumers.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

DEFAULT_EXCHANGE = ""


def retry_queue_name(queue_name: str) -> str:
    return f"{queue_name}.retry"


def dead_letter_queue_name(queue_name: str) -> str:
    return f"{queue_name}.dead-letter"


@dataclass(frozen=True)
class QueueTopology:
    """Names and declarations for work queue ``queue_name``."""

    queue_name: str
    retry_delay: float
    """Seconds a failed message waits in the retry queue before it comes back."""

    @property
    def retry_queue_name(self) -> str:
        return retry_queue_name(self.queue_name)

    @property
    def dead_letter_queue_name(self) -> str:
        return dead_letter_queue_name(self.queue_name)

    async def declare(self, channel: AbstractChannel) -> AbstractQueue:
        """Declare the three queues (idempotent) and return the work queue.

        Dead-letter targets first: a message dead-lettered to a queue that does not exist
        is dropped silently.
        """
        await channel.declare_queue(self.dead_letter_queue_name, durable=True)
        await channel.declare_queue(
            self.retry_queue_name,
            durable=True,
            arguments={
                "x-message-ttl": int(self.retry_delay * 1000),
                "x-dead-letter-exchange": DEFAULT_EXCHANGE,
                "x-dead-letter-routing-key": self.queue_name,
            },
        )
        return await channel.declare_queue(
            self.queue_name,
            durable=True,
            arguments={
                "x-dead-letter-exchange": DEFAULT_EXCHANGE,
                "x-dead-letter-routing-key": self.retry_queue_name,
            },
        )

    async def bind(
        self, channel: AbstractChannel, queue: AbstractQueue, topic: str, exchange_name: str
    ) -> AbstractExchange:
        """Bind the work queue to ``topic`` on the (durable) topic exchange ``exchange_name``."""
        exchange = await channel.declare_exchange(
            exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        await queue.bind(exchange, routing_key=topic)
        return exchange

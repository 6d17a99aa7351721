"""`BrokerChannel`: the broker as a service uses it - a publisher for its outbox relay, a
consumer for its inbox, a health probe and a way to close.

Two ways to get one, so a service's bootstrap reads the same in both running modes:
`in_process_channel` shares one `InMemoryBroker` between the services of one process (the
embedded default: it belongs to whoever created it, so closing the channel leaves it alone),
and `rabbitmq_channel` opens the service's own RabbitMQ publisher and consumer. ``healthy``
says whether the service's own link to the broker is up - not whether some broker answers
on that address: a service whose connection is down or still reconnecting is not ready.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer, RabbitMQPublisher
from cqrs_ddd_core.ports.messaging import IMessageConsumer, IMessagePublisher


async def _nothing_to_close() -> None:
    return None


@dataclass
class BrokerChannel:
    publisher: IMessagePublisher
    consumer: IMessageConsumer
    healthy: Callable[[], Awaitable[bool]]
    close: Callable[[], Awaitable[None]] = _nothing_to_close


def in_process_channel(broker: InMemoryBroker) -> BrokerChannel:
    """The embedded default: one in-process broker shared by the services of this process."""

    async def healthy() -> bool:
        return True

    return BrokerChannel(publisher=broker, consumer=broker, healthy=healthy)


def rabbitmq_channel(amqp_url: str, exchange_name: str) -> BrokerChannel:
    """This service's own RabbitMQ publisher and consumer on ``exchange_name``."""
    publisher = RabbitMQPublisher(amqp_url, exchange_name)
    consumer = RabbitMQConsumer(amqp_url, exchange_name)

    async def healthy() -> bool:
        # The consumer's link opens when the service starts, the publisher's at the relay's
        # first publish: up means the one is open and the other not known to be down.
        return consumer.link_up and not publisher.link_down

    async def close() -> None:
        await consumer.close()
        await publisher.close()

    return BrokerChannel(publisher=publisher, consumer=consumer, healthy=healthy, close=close)

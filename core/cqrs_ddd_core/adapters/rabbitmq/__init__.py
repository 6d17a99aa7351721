"""RabbitMQ adapters (aio-pika): `RabbitMQPublisher` and `RabbitMQConsumer`.

Persistent messages on a durable topic exchange, publisher confirms, manual acks, delayed
retries and a dead-letter queue that says why. Guide: docs/components/publishers.md and
docs/components/consumers.md.
"""

from cqrs_ddd_core.adapters.rabbitmq.consumer import RabbitMQConsumer
from cqrs_ddd_core.adapters.rabbitmq.dead_letters import DeadLetter
from cqrs_ddd_core.adapters.rabbitmq.publisher import RabbitMQPublisher

__all__ = ["DeadLetter", "RabbitMQConsumer", "RabbitMQPublisher"]

"""Dead letters: the copy of a message that cannot be processed, carrying the reason.

Pattern: a dead-letter queue an operator can read. The broker's own dead-lettering records
only *its* reason (``rejected``, ``expired``) in ``x-death``; ours must say *why* the handler
gave up. So the consumer republishes a copy with the headers below (waiting for the broker's
confirm) and only then acknowledges the original: a crash in between duplicates the dead
letter, it never loses the message. `DeadLetter` reads them back, for tests, the demo and
operators. Guide: docs/components/consumers.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage

from cqrs_ddd_core.adapters.rabbitmq.topology import dead_letter_queue_name

REASON = "x-dead-letter-reason"
"""A sentence: what went wrong and how often it was tried."""
ERROR_TYPE = "x-dead-letter-error-type"
ERROR_MESSAGE = "x-dead-letter-error-message"
QUEUE = "x-dead-letter-queue"
"""The work queue the message was dead-lettered from."""
TOPIC = "x-dead-letter-topic"
"""The routing key it was first published with."""
ATTEMPTS = "x-dead-letter-attempts"
POISON = "x-dead-letter-poison"
"""True when retrying could never help (malformed, unknown type): dead-lettered at once."""
DEAD_LETTERED_AT = "x-dead-letter-at"


def dead_letter_copy(
    message: AbstractIncomingMessage,
    *,
    error: BaseException,
    queue_name: str,
    topic: str,
    attempts: int,
    poison: bool,
) -> aio_pika.Message:
    """A persistent copy of ``message`` whose headers say why it was dead-lettered."""
    error_message = str(error) or repr(error)
    tried = "poison message, not retried" if poison else f"after {attempts} attempt(s)"
    headers: dict[str, Any] = dict(message.headers or {})
    headers.update(
        {
            REASON: f"{type(error).__name__}: {error_message} ({tried})",
            ERROR_TYPE: f"{type(error).__module__}.{type(error).__qualname__}",
            ERROR_MESSAGE: error_message,
            QUEUE: queue_name,
            TOPIC: topic,
            ATTEMPTS: attempts,
            POISON: poison,
            DEAD_LETTERED_AT: datetime.now(UTC).isoformat(),
        }
    )
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        type=message.type,
        correlation_id=message.correlation_id,
        timestamp=message.timestamp,
    )


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered message as an operator reads it."""

    message_id: str | None
    event_type: str | None
    reason: str
    error_type: str
    error_message: str
    queue: str
    topic: str
    attempts: int
    poison: bool
    body: bytes
    headers: dict[str, Any] = field(repr=False)
    correlation_id: str | None = None

    @property
    def payload(self) -> dict[str, Any] | None:
        """The decoded JSON object, or ``None`` when the body is not one (a malformed message)."""
        try:
            payload = json.loads(self.body)
        except (UnicodeDecodeError, ValueError):
            return None
        return payload if isinstance(payload, dict) else None

    @classmethod
    def from_message(cls, message: AbstractIncomingMessage) -> DeadLetter:
        headers = dict(message.headers or {})
        return cls(
            message_id=message.message_id,
            event_type=message.type,
            reason=str(headers.get(REASON, "")),
            error_type=str(headers.get(ERROR_TYPE, "")),
            error_message=str(headers.get(ERROR_MESSAGE, "")),
            queue=str(headers.get(QUEUE, "")),
            topic=str(headers.get(TOPIC, "")),
            attempts=int(str(headers.get(ATTEMPTS, 0))),
            poison=bool(headers.get(POISON, False)),
            body=message.body,
            headers=headers,
            correlation_id=message.correlation_id,
        )


async def read_dead_letters(
    connection: AbstractConnection, queue_name: str, *, limit: int = 100, remove: bool = False
) -> list[DeadLetter]:
    """The dead letters of work queue ``queue_name``, oldest first (at most ``limit``).

    Without ``remove`` they stay in the queue: they are fetched unacknowledged on a channel of
    their own, and closing it hands them back to the broker.
    """
    channel = await connection.channel()
    try:
        queue = await channel.declare_queue(dead_letter_queue_name(queue_name), durable=True)
        letters: list[DeadLetter] = []
        while len(letters) < limit:
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            letters.append(DeadLetter.from_message(message))
            if remove:
                await message.ack()
        return letters
    finally:
        await channel.close()


async def replay_dead_letters(
    connection: AbstractConnection, queue_name: str, *, limit: int = 100
) -> int:
    """Send dead letters back to their work queue, with a fresh attempt count; returns how many.

    For an operator who fixed the cause. Each copy is confirmed by the broker before its dead
    letter is acknowledged, so a crash in between duplicates a message rather than losing it.
    """
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    try:
        queue = await channel.declare_queue(dead_letter_queue_name(queue_name), durable=True)
        replayed = 0
        while replayed < limit:
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            headers = {
                key: value
                for key, value in (message.headers or {}).items()
                if not key.startswith(("x-dead-letter-", "x-death", "x-first-death-"))
            }
            copy = aio_pika.Message(
                message.body,
                headers=headers,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=message.message_id,
                type=message.type,
                correlation_id=message.correlation_id,
                timestamp=message.timestamp,
            )
            # The default exchange routes by queue name: only this queue gets it again.
            await channel.default_exchange.publish(copy, routing_key=queue_name, mandatory=True)
            await message.ack()
            replayed += 1
        return replayed
    finally:
        await channel.close()

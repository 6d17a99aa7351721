"""The wire format of a message on RabbitMQ: a JSON body plus AMQP properties and headers.

Pattern: a message envelope. The one thing to notice: the event type, the message id and
the correlation id travel as AMQP *properties* (``type``, ``message_id``, ``correlation_id``)
and again as headers, so a consumer can dispatch on ``type`` even when the routing key was
rewritten on the way (a retried message comes back with the work queue's name as its key),
and an operator reading a dead letter sees the whole story without decoding the body. On the way
back in, the broker's ``x-death`` header tells how often handling failed on a queue and the
topic the message was first published under.
Guide: docs/components/publishers.md and docs/components/consumers.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from pydantic import BaseModel

from cqrs_ddd_core.primitives.context import get_causation_id, get_correlation_id
from cqrs_ddd_core.primitives.exceptions import PoisonMessageError
from cqrs_ddd_core.primitives.ids import new_id

CONTENT_TYPE = "application/json"

PUBLISH_OPTIONS = frozenset({"message_id", "correlation_id", "causation_id", "headers"})
"""The keyword arguments `encode` understands (those of `IMessagePublisher.publish`)."""


def to_payload(message: Any) -> dict[str, Any]:
    """The JSON-ready dict of ``message``: a dict as is, a domain event through ``to_payload``."""
    if isinstance(message, Mapping):
        return dict(message)
    to_payload_method = getattr(message, "to_payload", None)
    if callable(to_payload_method):
        payload = to_payload_method()
        if isinstance(payload, Mapping):
            return dict(payload)
    if isinstance(message, BaseModel):
        return message.model_dump(mode="json")
    raise TypeError(
        f"Cannot publish a {type(message).__name__}: pass a dict, a DomainEvent or a pydantic model"
    )


def encode(topic: str, message: Any, **options: Any) -> aio_pika.Message:
    """A persistent AMQP message for ``message`` published under ``topic``.

    ``options`` are those of `IMessagePublisher.publish`: ``message_id`` (the outbox row id,
    unique per publish - the channel matches broker returns by it), ``correlation_id``,
    ``causation_id`` and extra ``headers``.
    """
    unknown = set(options) - PUBLISH_OPTIONS
    if unknown:
        raise TypeError(
            f"Unknown publish option(s) {sorted(unknown)} for topic {topic!r}; "
            f"expected some of {sorted(PUBLISH_OPTIONS)}"
        )
    payload = to_payload(message)
    event_type = str(payload.get("event_type") or topic)
    message_id = str(options.get("message_id") or payload.get("event_id") or new_id())
    correlation_id = (
        options.get("correlation_id") or payload.get("correlation_id") or get_correlation_id()
    )
    causation_id = options.get("causation_id") or payload.get("causation_id") or get_causation_id()
    headers: dict[str, Any] = dict(options.get("headers") or {})
    headers.update(topic=topic, event_type=event_type)
    if correlation_id is not None:
        headers["correlation_id"] = str(correlation_id)
    if causation_id is not None:
        headers["causation_id"] = str(causation_id)
    try:
        body = json.dumps(payload, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"The payload of {event_type!r} is not JSON-serialisable: {exc}") from exc
    return aio_pika.Message(
        body,
        content_type=CONTENT_TYPE,
        content_encoding="utf-8",
        # Transient is aio-pika's default: a broker restart would lose the message.
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message_id,
        type=event_type,
        correlation_id=None if correlation_id is None else str(correlation_id),
        headers=headers,
        timestamp=datetime.now(UTC),
    )


def decode(message: AbstractIncomingMessage) -> dict[str, Any]:
    """The payload dict a handler receives, with ``event_type`` (from the ``type`` property
    when the body lacks it). A body that is not a JSON object - not JSON, not UTF-8, nested
    past the recursion limit, or another JSON value - is a poison message."""
    try:
        payload = json.loads(message.body)
    except RecursionError:
        raise PoisonMessageError(
            f"Message {message.message_id!r} (type {message.type!r}) nests arrays or objects "
            f"too deeply to decode",
            message_id=message.message_id,
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise PoisonMessageError(
            f"Message {message.message_id!r} (type {message.type!r}) is not valid JSON: {exc}",
            message_id=message.message_id,
        ) from exc
    if not isinstance(payload, dict):
        raise PoisonMessageError(
            f"Message {message.message_id!r} (type {message.type!r}) is a JSON "
            f"{type(payload).__name__}, not an object",
            message_id=message.message_id,
        )
    if "event_type" not in payload and message.type:
        payload["event_type"] = message.type
    return payload


def _rejections(message: AbstractIncomingMessage, queue_name: str) -> dict[str, Any] | None:
    """The broker's ``x-death`` record of rejections from ``queue_name``, if any."""
    deaths = (message.headers or {}).get("x-death")
    if not isinstance(deaths, list):
        return None
    for death in deaths:
        if (
            isinstance(death, dict)
            and death.get("queue") == queue_name
            and death.get("reason") == "rejected"
        ):
            return death
    return None


def previous_attempts(message: AbstractIncomingMessage, queue_name: str) -> int:
    """How many times handling this message on ``queue_name`` failed before (from x-death)."""
    death = _rejections(message, queue_name)
    return 0 if death is None else int(death.get("count", 0))


def original_topic(message: AbstractIncomingMessage, queue_name: str) -> str:
    """The routing key the message was published with, even after a round through retries."""
    death = _rejections(message, queue_name)
    if death is not None and death.get("routing-keys"):
        return str(death["routing-keys"][0])
    if message.exchange == "":  # replayed through the default exchange: the key is the queue
        return str((message.headers or {}).get("topic") or message.routing_key or "")
    return message.routing_key or ""

"""`IMessagePublisher` and `IMessageConsumer`: the two sides of a broker, as the core sees them.

A consumer handler that raises means the message was **not** processed: the broker must
redeliver it or dead-letter it, never acknowledge it as done.
Guide: docs/components/publishers.md and docs/components/consumers.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

# --8<-- [start:ports]
MessageHandler = Callable[[dict[str, Any]], Awaitable[None]]
"""What a consumer calls with each decoded payload (a dict carrying ``event_type``)."""


class IMessagePublisher(ABC):
    """Hands a message to a destination (a broker, an outbox, another publisher)."""

    @abstractmethod
    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        """Publish ``message`` under ``topic``.

        ``kwargs`` may carry ``correlation_id``, ``causation_id``, ``message_id`` and
        ``headers``.
        """

    def accepts(self, topic: str, message: Any) -> bool:
        """Whether this publisher has somewhere to send ``message``.

        Yes for a broker or an outbox; a router says no for a message none of its routes
        match - `OutboxMiddleware` leaves such an event in-process instead of publishing it.
        """
        return True


class IMessageConsumer(ABC):
    """Subscribes handlers to topics of a broker, and unsubscribes them."""

    @abstractmethod
    async def subscribe(
        self,
        topic: str,
        handler: MessageHandler,
        queue_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Deliver every message published under ``topic`` to ``handler``.

        Subscribers sharing a ``queue_name`` compete for messages (one of them gets each);
        different queue names each get their own copy.
        """

    @abstractmethod
    async def unsubscribe(
        self, topic: str, handler: MessageHandler, queue_name: str | None = None
    ) -> None:
        """Stop delivering ``topic`` to ``handler``; a message already in its hands finishes.

        The queue and its bindings stay: what is published meanwhile waits for the other
        subscribers of the queue, or the next one - a service that stops loses nothing.
        """

"""`NotificationsPublisher` and `NotificationLog`: the "notifications" destination.

Events routed to ``notifications`` (an order confirmed, a payment failed: by a service's route
table, or by ``@route_to("notifications")``) are for people, not for other services. They
still go through the outbox - written in the command's transaction, sent only after it
commits, retried if the broker is down - but under their own topic,
``notifications.<EventType>``, so a notifier subscribes to ``notifications.#`` and never meets
the integration traffic. Guide: docs/components/publishers.md.
"""

from __future__ import annotations

import logging
from typing import Any

from cqrs_ddd_core.ports.messaging import IMessagePublisher

logger = logging.getLogger(__name__)

TOPIC_PREFIX = "notifications."


class NotificationsPublisher(IMessagePublisher):
    """Publishes to ``outbox`` under ``notifications.<topic>``."""

    def __init__(self, outbox: IMessagePublisher) -> None:
        self._outbox = outbox

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        message_id = kwargs.get("message_id")
        if message_id is not None:
            # The event may also travel as an integration message: one outbox row id each.
            kwargs["message_id"] = f"{message_id}:notification"
        await self._outbox.publish(TOPIC_PREFIX + topic, message, **kwargs)


class NotificationLog:
    """Stands in for the notification sender (e-mail, SMS): logs each one and keeps the last.

    Subscribed to the service's ``notifications.*`` topics by `ServiceHost.start`, so the demo
    and ``GET /notifications`` can show what a customer would have been told.
    """

    def __init__(self, keep: int = 100) -> None:
        self._keep = keep
        self.received: list[dict[str, Any]] = []
        self._dropped = 0
        """How many notifications were let go to keep the last ``keep``: the position of
        ``received[0]`` among all received, so positions stay stable for paging."""

    async def handle(self, payload: dict[str, Any]) -> None:
        logger.info("notification %s: %s", payload.get("event_type"), _describe(payload))
        self.received.append(payload)
        overflow = max(0, len(self.received) - self._keep)
        del self.received[:overflow]
        self._dropped += overflow

    def page(self, *, after: int | None, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` kept notifications, oldest first, with their positions; with
        ``after``, only those received after the one at that position."""
        start = 0 if after is None else max(0, after + 1 - self._dropped)
        kept = self.received[start : start + limit]
        return [(self._dropped + start + offset, payload) for offset, payload in enumerate(kept)]


def _describe(payload: dict[str, Any]) -> str:
    fields = ("order_id", "customer_id", "total", "amount", "reason")
    return ", ".join(f"{name}={payload[name]}" for name in fields if name in payload)

"""`ServiceHost`: a service, assembled - started, stopped, probed and served the same way.

A bootstrap builds its mediator and consumers over a `Plumbing` and hands everything here.
The things to notice are the two orders:

* `start` - migrate; run the service's own start hooks (billing opens its merchant account);
  subscribe the notification log; start consuming; start relaying (rows a previous run left
  go out first); start the other workers (a deadline scheduler).
* `stop` - graceful, and every step runs even if one before it fails: stop consuming (the
  queues keep what arrives meanwhile), let in-flight messages finish, stop the other workers,
  stop the relay, then close the broker and the database. A stuck consumer must not leave
  the relay running or the connections open.

`create_app` is the Litestar app (litestar/app.py) whose lifespan is `start` and `stop`;
`health` reports the database and the broker. Guide: docs/patterns/composition-root.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from cqrs_ddd_core.adapters.broker_channel import BrokerChannel
from cqrs_ddd_core.adapters.host.plumbing import Plumbing
from cqrs_ddd_core.adapters.host.settings import ServiceSettings
from cqrs_ddd_core.adapters.host.storage import Storage
from cqrs_ddd_core.adapters.litestar.app import Hook, service_app
from cqrs_ddd_core.adapters.litestar.idempotency import IdempotentPosts
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.publishers.notifications import TOPIC_PREFIX, NotificationLog
from cqrs_ddd_core.cqrs.publishers.route_table import NOTIFICATIONS, Routes, topics_routed_to
from cqrs_ddd_core.ports.background import IBackgroundWorker


def notifications_queue(service_name: str) -> str:
    """The queue of a service's notification log: ``<service>.notifications``."""
    return f"{service_name}.notifications"


@dataclass
class ServiceHost:
    """One service: its plumbing, its mediator, its consumers and its HTTP routes."""

    name: str
    settings: ServiceSettings
    plumbing: Plumbing
    mediator: Mediator
    consumers: Sequence[BaseEventConsumer]
    http_routes: Sequence[HTTPRouteHandler]
    routes: Routes
    """The route table: the events it sends to `NOTIFICATIONS` fill the notification log."""
    on_start: Sequence[Hook] = ()
    """Run after migrating, before consuming."""
    notifications: NotificationLog = field(default_factory=NotificationLog)
    workers: Sequence[IBackgroundWorker] = ()
    """Started after the relay, stopped before it (ordering's deadline scheduler)."""

    @property
    def storage(self) -> Storage:
        return self.plumbing.storage

    @property
    def broker(self) -> BrokerChannel:
        return self.plumbing.broker

    @property
    def outbox(self) -> BufferedOutbox:
        return self.plumbing.outbox

    @property
    def notifications_queue(self) -> str:
        return notifications_queue(self.name)

    async def start(self) -> None:
        """Migrate, run the start hooks, then consume and relay."""
        await self.storage.migrate()
        for hook in self.on_start:
            await hook()
        for topic in topics_routed_to(self.routes, NOTIFICATIONS):
            await self.broker.consumer.subscribe(
                TOPIC_PREFIX + topic, self.notifications.handle, self.notifications_queue
            )
        for consumer in self.consumers:
            await consumer.start()
        await self.outbox.start()
        for worker in self.workers:
            await worker.start()

    async def stop(self) -> None:
        """Graceful: stop consuming, let in-flight messages finish, stop the relay, close."""
        # The stack unwinds last-in, first-out, and runs every callback even if one fails.
        async with contextlib.AsyncExitStack() as cleanup:
            cleanup.push_async_callback(self.storage.close)
            cleanup.push_async_callback(self.broker.close)
            cleanup.push_async_callback(self.outbox.stop)
            for worker in self.workers:
                cleanup.push_async_callback(worker.stop)
            for consumer in self.consumers:
                cleanup.push_async_callback(consumer.stop)
            for topic in topics_routed_to(self.routes, NOTIFICATIONS):
                cleanup.push_async_callback(
                    self.broker.consumer.unsubscribe,
                    TOPIC_PREFIX + topic,
                    self.notifications.handle,
                    self.notifications_queue,
                )

    async def health(self) -> dict[str, Any]:
        checks = {
            "database": await self.storage.healthy(),
            "broker": await self.broker.healthy(),
        }
        return {"status": "ok" if all(checks.values()) else "unavailable", **checks}

    def create_app(self, *, lifespan: bool = True) -> Litestar:
        """The HTTP app; with ``lifespan`` its startup and shutdown start and stop the service."""
        hooks = ([self.start], [self.stop]) if lifespan else ([], [])
        return service_app(
            self.http_routes,
            commands=self.mediator,
            queries=self.mediator,
            health_check=self.health,
            notification_feed=self.notifications.received,
            idempotency=IdempotentPosts(self.storage.uow_factory, self.storage.idempotency),
            on_startup=hooks[0],
            on_shutdown=hooks[1],
        )

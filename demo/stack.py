"""The two real services, started from their bootstraps for the walkthrough.

Each service gets a SQLite file of its own in a temporary folder, and both talk through one
broker: by default an `InMemoryBroker` shared in process (as `demo/serve.py` runs them), or
with ``--rabbitmq`` the real RabbitMQ (``AMQP_URL``) - then the run uses an exchange and queue
names of its own, and deletes what it declared when it ends. The demo drives the services
over HTTP (httpx against their Litestar apps, in process) and through their mediators. Its HTTP
clients speak as the back office: each request carries an operator's bearer token, signed with
``AUTH_SECRET`` or the development secret (deploy/tokens.py), as `just serve` verifies them.

What differs between the two brokers sits in `EmbeddedBroker` and `RabbitBroker`: how to break
the broker for a moment, where the dead letters are read, and what to clean up.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import aio_pika
import httpx
from litestar import Litestar

from billing_service import bootstrap as billing_bootstrap
from billing_service import consumers as billing_consumers
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer
from cqrs_ddd_core.adapters.rabbitmq.topology import dead_letter_queue_name, retry_queue_name
from cqrs_ddd_core.ports.messaging import IMessageConsumer, MessageHandler
from cqrs_ddd_core.primitives.ids import new_id
from demo.clock import MovableClock
from demo.observers import CommandLog, MessageTap, SpanLog
from deploy.tokens import issue, secret_in_force
from ordering_service import bootstrap as ordering_bootstrap

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
BILLING_ORDERS_QUEUE = billing_consumers.QUEUE_NAME
"""Billing's queue of ordering's `OrderCreated`."""
TAP_INTEGRATION = "demo.tap.integration"


@dataclass(frozen=True)
class DeadLetterView:
    """A dead letter as the demo shows it, from either broker."""

    message_id: str | None
    event_type: str | None
    reason: str
    attempts: int


class BrokerSide(Protocol):
    """What the walkthrough needs from the broker beyond publishing and consuming."""

    description: str
    farewell: str
    """What stopping also does (said while it happens)."""

    def service_broker(self) -> InMemoryBroker | None: ...

    def prepare(self, service: ServiceHost) -> None: ...

    def tap_consumer(self) -> IMessageConsumer: ...

    def refuse_order_created(self) -> contextlib.AbstractAsyncContextManager[str]: ...

    async def dead_letters(self, queue_name: str) -> list[DeadLetterView]: ...

    async def close(self) -> None: ...


# --- the embedded default --------------------------------------------------------------------


class EmbeddedBroker:
    """One `InMemoryBroker` shared by both services, with its fault injection."""

    def __init__(self) -> None:
        self.broker = InMemoryBroker()
        self.description = "InMemoryBroker (in process, shared by both services)"
        self.farewell = ""

    def service_broker(self) -> InMemoryBroker:
        return self.broker

    def prepare(self, service: ServiceHost) -> None:
        return None

    def tap_consumer(self) -> IMessageConsumer:
        return self.broker

    @asynccontextmanager
    async def refuse_order_created(self) -> AsyncIterator[str]:
        """The broker is unavailable: every publish fails until the block ends."""
        self.broker.take_down()
        try:
            yield "InMemoryBroker.take_down(): every publish raises ConnectionError"
        finally:
            self.broker.bring_up()

    async def dead_letters(self, queue_name: str) -> list[DeadLetterView]:
        return [
            DeadLetterView(
                message_id=letter.message_id,
                event_type=letter.payload.get("event_type"),
                reason=letter.reason,
                attempts=letter.deliveries,
            )
            for letter in self.broker.dead_letters(queue_name)
        ]

    async def close(self) -> None:
        await self.broker.stop()


# --- the real RabbitMQ ---------------------------------------------------------------------


class QueueNamespace(IMessageConsumer):
    """A consumer whose queue names all start with ``prefix``, and which remembers them.

    The services name their queues ``billing.orders``, ``ordering.payments``...; on a shared
    RabbitMQ a run of the demo must not meet the queues of running services or of another run,
    so it prefixes every queue name it subscribes, and deletes those queues at the end.
    """

    def __init__(self, inner: RabbitMQConsumer, prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix
        self.queues: set[str] = set()

    def name(self, queue_name: str | None) -> str:
        return f"{self.prefix}.{queue_name or 'default'}"

    async def subscribe(
        self, topic: str, handler: MessageHandler, queue_name: str | None = None, **kwargs: Any
    ) -> None:
        name = self.name(queue_name)
        self.queues.add(name)
        await self.inner.subscribe(topic, handler, name, **kwargs)

    async def unsubscribe(
        self, topic: str, handler: MessageHandler, queue_name: str | None = None
    ) -> None:
        await self.inner.unsubscribe(topic, handler, self.name(queue_name))


class RabbitBroker:
    """RabbitMQ at ``amqp_url``, with an exchange and queue names of this run's own."""

    def __init__(self, amqp_url: str) -> None:
        self.amqp_url = amqp_url
        self.prefix = f"demo-{new_id()[:8]}"
        self.exchange_name = f"{self.prefix}.events"
        self.address = _safe(amqp_url)
        self.description = f"RabbitMQ {self.address}, exchange {self.exchange_name!r}"
        self.farewell = ", deleting the queues and the exchange this run declared"
        self._namespaces: list[QueueNamespace] = []
        self._tap = QueueNamespace(RabbitMQConsumer(amqp_url, self.exchange_name), self.prefix)
        self._namespaces.append(self._tap)
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    def service_broker(self) -> None:
        return None  # each service opens its own RabbitMQ publisher and consumer

    def prepare(self, service: ServiceHost) -> None:
        """Give the service's queues this run's prefix (before it starts)."""
        inner = service.broker.consumer
        assert isinstance(inner, RabbitMQConsumer), "a RabbitMQ-built service"
        namespace = QueueNamespace(inner, self.prefix)
        self._namespaces.append(namespace)
        service.broker.consumer = namespace  # what start() subscribes the notifications with
        for consumer in service.consumers:
            consumer.broker = namespace  # what the service's event consumers subscribe with

    def tap_consumer(self) -> IMessageConsumer:
        return self._tap

    async def _channel(self) -> aio_pika.abc.AbstractChannel:
        if self._connection is None:
            self._connection = await aio_pika.connect_robust(self.amqp_url)
        return await self._connection.channel()

    @asynccontextmanager
    async def refuse_order_created(self) -> AsyncIterator[str]:
        """No queue is bound to ``OrderCreated`` for a while: RabbitMQ returns every publish."""
        channel = await self._channel()
        names = [f"{self.prefix}.{BILLING_ORDERS_QUEUE}", f"{self.prefix}.{TAP_INTEGRATION}"]
        unbound = []
        try:
            for name in names:
                queue = await channel.get_queue(name, ensure=True)
                await queue.unbind(self.exchange_name, "OrderCreated")
                unbound.append(queue)
            yield (
                "billing's queue and the demo's tap unbound from 'OrderCreated': RabbitMQ "
                "returns the mandatory publish and the relay gets a PublishError"
            )
        finally:
            for queue in unbound:
                await queue.bind(self.exchange_name, "OrderCreated")
            await channel.close()

    async def dead_letters(self, queue_name: str) -> list[DeadLetterView]:
        return [
            DeadLetterView(
                message_id=letter.message_id,
                event_type=letter.event_type,
                reason=letter.reason,
                attempts=letter.attempts,
            )
            for letter in await self._tap.inner.dead_letters(self._tap.name(queue_name))
        ]

    async def close(self) -> None:
        """Delete every queue this run declared (with its retry and dead-letter queues), then
        the exchange."""
        await self._tap.inner.close()
        channel = await self._channel()
        try:
            for namespace in self._namespaces:
                for queue_name in sorted(namespace.queues):
                    for name in (
                        queue_name,
                        retry_queue_name(queue_name),
                        dead_letter_queue_name(queue_name),
                    ):
                        await channel.queue_delete(name)
            await channel.exchange_delete(self.exchange_name)
        finally:
            await channel.close()
            assert self._connection is not None
            await self._connection.close()

    def declared(self) -> list[str]:
        return sorted(name for namespace in self._namespaces for name in namespace.queues)


def _safe(amqp_url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(amqp_url)
    host = f"{parts.hostname}:{parts.port or 5672}"
    return f"{parts.scheme}://{host}{parts.path or '/'}"


# --- both services -------------------------------------------------------------------------


@dataclass
class Stack:
    """Ordering and billing, running, with their HTTP clients and what the demo watches."""

    folder: Path
    side: BrokerSide
    ordering: ServiceHost
    billing: ServiceHost
    ordering_http: httpx.AsyncClient
    billing_http: httpx.AsyncClient
    tap: MessageTap
    commands: CommandLog
    clock: MovableClock
    """Ordering's clock: the payment-deadline section moves it instead of waiting."""
    spans: SpanLog
    """What both services traced (the correlation-tree section draws the first order's)."""


@asynccontextmanager
async def running(side: BrokerSide, *, verbose: bool = False) -> AsyncIterator[Stack]:
    """Build both services from their bootstraps, start them, and stop them on exit."""
    commands = CommandLog()
    commands.install()
    spans = SpanLog()
    spans.install()
    with tempfile.TemporaryDirectory(prefix="cqrs-demo-") as folder:
        path = Path(folder)
        broker = side.service_broker()
        ordering_settings = ordering_bootstrap.OrderingSettings.model_validate(
            _settings(path, side, "ordering")
        )
        billing_settings = billing_bootstrap.BillingSettings.model_validate(
            _settings(path, side, "billing")
        )
        clock = MovableClock()
        ordering = ordering_bootstrap.build(ordering_settings, broker=broker, clock=clock)
        billing = billing_bootstrap.build(billing_settings, broker=broker)
        side.prepare(ordering)
        side.prepare(billing)
        tap = MessageTap(side.tap_consumer())
        try:
            async with AsyncExitStack() as stack:
                stack.push_async_callback(side.close)
                await tap.start()
                stack.push_async_callback(tap.stop)
                # No lifespan: the demo starts and stops the services itself, below, so that
                # they, their relays and consumers live on this event loop, next to the demo.
                billing_app = billing.create_app(lifespan=False)
                ordering_app = ordering.create_app(lifespan=False)
                quiet_logging(verbose)  # after the apps: creating one configures logging
                await billing.start()
                stack.push_async_callback(billing.stop)
                await ordering.start()
                stack.push_async_callback(ordering.stop)
                billing_http = await stack.enter_async_context(_client(billing_app, "billing"))
                ordering_http = await stack.enter_async_context(_client(ordering_app, "ordering"))
                yield Stack(
                    path,
                    side,
                    ordering,
                    billing,
                    ordering_http,
                    billing_http,
                    tap,
                    commands,
                    clock,
                    spans,
                )
        finally:
            commands.uninstall()
            spans.uninstall()


def _settings(folder: Path, side: BrokerSide, service: str) -> dict[str, Any]:
    """What the demo changes in a service's settings: its own SQLite file, this run's broker
    (and, for ordering, a deadline scheduler that looks every 50 ms, so no one waits for it)."""
    settings: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{folder / f'{service}.db'}",
        "amqp_url": getattr(side, "amqp_url", DEFAULT_AMQP_URL),
        "exchange_name": getattr(side, "exchange_name", "events"),
        "auth_secret": secret_in_force(),
    }
    if service == "ordering":
        settings["deadline_poll_interval"] = 0.05
    return settings


def _client(app: Litestar, name: str) -> httpx.AsyncClient:
    """HTTP requests handled by ``app`` in this process (no socket), as the back office sends."""
    # Litestar's ASGI signature is narrower than the one httpx declares; it is an ASGI app.
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    token = issue("back-office", ["operator"], secret=secret_in_force())
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.AsyncClient(transport=transport, base_url=f"http://{name}", headers=headers)


def quiet_logging(verbose: bool) -> None:
    """The story is the output: service logs go to stderr only with ``--verbose``."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if verbose:
        handler = logging.StreamHandler()
        handler.setLevel(logging.INFO)
        handler.setFormatter(
            logging.Formatter("    %(relativeCreated)7.0f %(levelname)s %(name)s: %(message)s")
        )
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    else:
        root.addHandler(logging.NullHandler())
        root.setLevel(logging.CRITICAL)
    for name in ("litestar", "alembic"):
        logger = logging.getLogger(name)
        logger.propagate = True
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
    messages = logging.getLogger(CommandLog.LOGGER)
    messages.propagate = verbose

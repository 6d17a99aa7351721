"""Each service's RabbitMQ user may do what its code does on the broker, and nothing of the other's.

deploy/rabbitmq/definitions.json gives ordering and billing a user each (compose loads it into
the broker at boot): configure, write and read permissions on their own queues, and topic
permissions on the ``events`` exchange for exactly the routing keys their route tables publish
and their consumers bind. The names are not copied here: they are derived from the services
themselves (route table, consumers, notification log), so a new event or queue that the
definitions forgot fails this test, naming it.

* Offline: every name a service uses matches its own user's patterns and none of the other's.
* On the machine's RabbitMQ (a virtual host of the test's own; users made from the definitions
  with ``rabbitmqctl``): both services start on their own users and an order is paid and
  confirmed across them - and ordering's user is refused billing's queue (consume, get), refused
  publishing a payment result, and refused binding a queue to billing's events.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from aiormq.exceptions import ChannelAccessRefused
from litestar.testing import AsyncTestClient

from billing_service import bootstrap as billing_bootstrap
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.rabbitmq.topology import dead_letter_queue_name, retry_queue_name
from cqrs_ddd_core.cqrs.publishers.notifications import TOPIC_PREFIX
from cqrs_ddd_core.cqrs.publishers.route_table import INTEGRATION, NOTIFICATIONS, topics_routed_to
from ordering_service import bootstrap as ordering_bootstrap
from tests.deploy.test_compose import compose_service_users
from tests.isolation import require_vhosts
from tests.tokens import TEST_AUTH_SECRET, auth_headers

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"
SERVICES = ("ordering", "billing")
DEFAULT_EXCHANGE = "amq.default"
"""The name permissions give the default exchange (dead-letter copies are published to it)."""


@dataclass(frozen=True)
class Footprint:
    """What a service does on the broker, read from its code."""

    exchange: str
    queues: frozenset[str]
    """Declared (with their retry and dead-letter queues), bound and consumed."""
    published: frozenset[str]
    """Routing keys its outbox relay publishes on the exchange."""
    bound: frozenset[str]
    """Routing keys its queues are bound to on the exchange."""


def build(name: str, broker: InMemoryBroker) -> ServiceHost:
    if name == "ordering":
        return ordering_bootstrap.build(
            ordering_bootstrap.OrderingSettings(database_url="memory"), broker=broker
        )
    return billing_bootstrap.build(
        billing_bootstrap.BillingSettings(database_url="memory"), broker=broker
    )


def footprint(service: ServiceHost) -> Footprint:
    notified = [TOPIC_PREFIX + topic for topic in topics_routed_to(service.routes, NOTIFICATIONS)]
    work_queues = [str(consumer.queue_name) for consumer in service.consumers]
    if notified:
        work_queues.append(service.notifications_queue)
    return Footprint(
        exchange=service.settings.exchange_name,
        queues=frozenset(
            name
            for queue in work_queues
            for name in (queue, retry_queue_name(queue), dead_letter_queue_name(queue))
        ),
        published=frozenset([*topics_routed_to(service.routes, INTEGRATION), *notified]),
        bound=frozenset(
            [*(topic for consumer in service.consumers for topic in consumer.topics), *notified]
        ),
    )


@pytest.fixture(scope="module")
def footprints() -> dict[str, Footprint]:
    broker = InMemoryBroker()
    return {name: footprint(build(name, broker)) for name in SERVICES}


def definitions() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DEFINITIONS.read_text())
    return loaded


def permissions(user: str) -> dict[str, str]:
    (entry,) = [p for p in definitions()["permissions"] if p["user"] == user]
    return {kind: entry[kind] for kind in ("configure", "write", "read")}


def topic_permissions(user: str, exchange: str) -> dict[str, str]:
    (entry,) = [
        p
        for p in definitions()["topic_permissions"]
        if p["user"] == user and p["exchange"] == exchange
    ]
    return {kind: entry[kind] for kind in ("write", "read")}


def allowed(pattern: str, name: str) -> bool:
    # RabbitMQ matches permission patterns unanchored, like re.search.
    return re.search(pattern, name) is not None


# --- offline: the definitions against the code --------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_may_declare_bind_and_consume_its_own_queues(
    service: str, footprints: dict[str, Footprint]
) -> None:
    granted = permissions(service)
    own = footprints[service]
    for queue in sorted(own.queues):
        for kind in ("configure", "write", "read"):  # declare; bind (and dead-letter); consume
            assert allowed(granted[kind], queue), f"{service} may not {kind} {queue!r}"
    for kind in ("configure", "write", "read"):  # declare; publish; bind from
        assert allowed(granted[kind], own.exchange), f"{service} may not {kind} {own.exchange}"
    assert allowed(granted["write"], DEFAULT_EXCHANGE), f"{service} cannot dead-letter"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_may_publish_and_bind_exactly_the_topics_its_code_uses(
    service: str, footprints: dict[str, Footprint]
) -> None:
    own = footprints[service]
    granted = topic_permissions(service, own.exchange)
    everything = frozenset().union(*(f.published | f.bound for f in footprints.values()))
    may_publish = {topic for topic in everything if allowed(granted["write"], topic)}
    may_bind = {topic for topic in everything if allowed(granted["read"], topic)}
    assert may_publish == own.published
    assert may_bind == own.bound


@pytest.mark.parametrize(("service", "other"), [SERVICES, SERVICES[::-1]])
def test_a_service_may_touch_none_of_the_other_services_queues(
    service: str, other: str, footprints: dict[str, Footprint]
) -> None:
    granted = permissions(service)
    for queue in sorted(footprints[other].queues):
        for kind in ("configure", "write", "read"):
            assert not allowed(granted[kind], queue), f"{service} may {kind} {other}'s {queue!r}"


def test_the_compose_services_connect_as_the_users_of_the_definitions() -> None:
    users = {user["name"]: user for user in definitions()["users"]}
    for service, (user, password) in compose_service_users().items():
        assert user == service
        assert password_matches(users[user], password), f"{service}'s password is not {user}'s"


def password_matches(user: dict[str, Any], password: str) -> bool:
    """RabbitMQ's salted SHA-256: base64(salt(4 bytes) + sha256(salt + password))."""
    assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    raw = base64.b64decode(user["password_hash"])
    salt, digest = raw[:4], raw[4:]
    return hashlib.sha256(salt + password.encode()).digest() == digest


# --- on the real broker ---------------------------------------------------------------------


def _ctl(*arguments: str) -> None:
    ctl = shutil.which("rabbitmqctl")
    assert ctl is not None
    subprocess.run([ctl, "-q", *arguments], check=True, capture_output=True, timeout=60)


@contextmanager
def users_from_the_definitions(rabbitmq_url: str) -> Iterator[dict[str, str]]:
    """A new virtual host with ordering's and billing's users and permissions as the
    definitions give them (under unique names: users are broker-wide); their AMQP URLs."""
    server = urlsplit(rabbitmq_url)
    run = uuid.uuid4().hex[:10]
    vhost = f"cqrs-permissions-{run}"
    _ctl("add_vhost", vhost)
    made: list[str] = []
    try:
        urls: dict[str, str] = {}
        for service in SERVICES:
            user, password = f"{service}-{run}", uuid.uuid4().hex
            _ctl("add_user", user, password)
            made.append(user)
            granted = permissions(service)
            _ctl("set_permissions", "-p", vhost, user, *granted.values())
            for entry in definitions()["topic_permissions"]:
                if entry["user"] == service:
                    _ctl(
                        "set_topic_permissions",
                        *("-p", vhost, user, entry["exchange"], entry["write"], entry["read"]),
                    )
            netloc = f"{user}:{password}@{server.hostname}:{server.port or 5672}"
            urls[service] = urlunsplit(("amqp", netloc, "/" + quote(vhost, safe=""), "", ""))
        yield urls
    finally:
        _ctl("delete_vhost", vhost)
        for user in made:
            _ctl("delete_user", user)


@pytest.fixture
def service_urls(rabbitmq_url: str) -> Iterator[dict[str, str]]:
    require_vhosts("the permissions test")
    with users_from_the_definitions(rabbitmq_url) as urls:
        yield urls


@pytest.fixture
async def clients(service_urls: dict[str, str]) -> AsyncIterator[dict[str, AsyncTestClient[Any]]]:
    """Both services started on their own users (billing first: it binds what ordering sends)."""
    services = {
        "billing": billing_bootstrap.BillingSettings(
            database_url="memory",
            amqp_url=service_urls["billing"],
            outbox_poll_interval=0.2,
            auth_secret=TEST_AUTH_SECRET,
        ),
        "ordering": ordering_bootstrap.OrderingSettings(
            database_url="memory",
            amqp_url=service_urls["ordering"],
            outbox_poll_interval=0.2,
            auth_secret=TEST_AUTH_SECRET,
        ),
    }
    async with AsyncExitStack() as stack:
        clients: dict[str, AsyncTestClient[Any]] = {}
        for name, settings in services.items():
            service = (
                billing_bootstrap.build(settings)
                if isinstance(settings, billing_bootstrap.BillingSettings)
                else ordering_bootstrap.build(settings)
            )
            client = AsyncTestClient(app=service.create_app())
            clients[name] = await stack.enter_async_context(client)
        yield clients


async def test_both_services_run_the_whole_story_on_their_own_users(
    clients: dict[str, AsyncTestClient[Any]],
) -> None:
    ordering, billing = clients["ordering"], clients["billing"]
    opened = await billing.post(
        "/accounts", json={"account_id": "alice", "balance": "50"}, headers=auth_headers()
    )
    assert opened.status_code == 201, opened.text
    order = {"customer_id": "alice", "items": [{"sku": "book", "quantity": 1, "unit_price": "30"}]}
    placed = await ordering.post("/orders", json=order, headers=auth_headers())
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]

    async with asyncio.timeout(20):
        while True:
            got = await ordering.get(f"/orders/{order_id}", headers=auth_headers())
            if got.json()["status"] == "CONFIRMED":
                break
            await asyncio.sleep(0.05)
    for client in (ordering, billing):
        assert (await client.get("/health/ready")).status_code == 200


async def ignore(message: AbstractIncomingMessage) -> None:
    return None


async def refused(url: str, attempt: Callable[[AbstractChannel], Awaitable[Any]]) -> str:
    """The broker's refusal of ``attempt`` on a fresh channel as ``url``'s user."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        with pytest.raises(ChannelAccessRefused) as refusal:
            await attempt(channel)
        return str(refusal.value)
    finally:
        await connection.close()


async def test_ordering_cannot_consume_publish_or_bind_what_is_billings(
    clients: dict[str, AsyncTestClient[Any]], service_urls: dict[str, str]
) -> None:
    url = service_urls["ordering"]  # billing has started: its queues exist

    async def consume(channel: AbstractChannel) -> None:
        queue = await channel.get_queue("billing.orders", ensure=False)
        await queue.consume(ignore)

    async def take_one(channel: AbstractChannel) -> None:
        queue = await channel.get_queue("billing.orders", ensure=False)
        await queue.get(fail=False)

    async def forge_a_payment(channel: AbstractChannel) -> None:
        exchange = await channel.get_exchange("events", ensure=False)
        await exchange.publish(aio_pika.Message(b"{}"), routing_key="PaymentCaptured")

    async def eavesdrop(channel: AbstractChannel) -> None:
        queue = await channel.declare_queue("ordering.eavesdrop", exclusive=True)
        await queue.bind("events", routing_key="OrderCreated")

    assert "queue 'billing.orders'" in await refused(url, consume)
    assert "queue 'billing.orders'" in await refused(url, take_one)
    assert "topic 'PaymentCaptured'" in await refused(url, forge_a_payment)
    assert "topic 'OrderCreated'" in await refused(url, eavesdrop)


async def test_billing_cannot_consume_orderings_queue(
    clients: dict[str, AsyncTestClient[Any]], service_urls: dict[str, str]
) -> None:
    async def consume(channel: AbstractChannel) -> None:
        queue = await channel.get_queue("ordering.payments", ensure=False)
        await queue.consume(ignore)

    assert "queue 'ordering.payments'" in await refused(service_urls["billing"], consume)

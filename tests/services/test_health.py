"""Liveness and readiness: what an orchestrator asks a replica, and what each answer means.

* ``/health/live`` answers 200 as long as the process answers - whatever its database, broker
  or relay are doing, so a replica is never restarted for an outage around it.
* ``/health/ready`` (and the old ``/health``) answers 503, naming what failed, when the
  database takes no write within its short timeout (held here by another connection holding
  SQLite's write lock), when the service's link to the broker is down (a proxy in front of the
  real RabbitMQ pulls the plug), or when the outbox relay is stuck (a publish that hangs) - and
  200 again once the cause is gone.
* On PostgreSQL the write is a committed transaction id, and a database that only allows reads
  is not ready either.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cqrs_ddd_core.adapters.host.plumbing import RelayOptions
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.write_probe import ReadOnlyDatabaseError, take_a_write
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from ordering_service import bootstrap
from tests.isolation import fresh_postgres_database
from tests.reliability.broker_proxy import BrokerProxy
from tests.tokens import TEST_AUTH_SECRET, auth_headers

Client = AsyncTestClient[Any]
ORDER = {"customer_id": "alice", "items": [{"sku": "book", "quantity": 1, "unit_price": "5.00"}]}


def settings(tmp_path: Path, **overrides: Any) -> bootstrap.OrderingSettings:
    return bootstrap.OrderingSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/ordering.db",
        ready_write_timeout_seconds=0.3,
        auth_secret=TEST_AUTH_SECRET,
        **overrides,
    )


@asynccontextmanager
async def serving(service: ServiceHost) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=service.create_app()) as client:
        yield client


async def probe(client: Client, path: str) -> tuple[int, dict[str, Any]]:
    response = await client.get(path)  # no token: the probes are public
    return response.status_code, response.json()


async def eventually(
    client: Client, path: str, status: int, within: float = 10.0
) -> dict[str, Any]:
    """The body of ``path`` once it answers ``status`` (polled until ``within`` seconds)."""
    async with asyncio.timeout(within):
        while True:
            code, body = await probe(client, path)
            if code == status:
                return body
            await asyncio.sleep(0.05)


@contextmanager
def write_lock_held(database: Path) -> Iterator[None]:
    """Another connection holds the database's one write lock until the block ends."""
    other = sqlite3.connect(database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_healthy_replica_is_live_and_ready_and_health_is_readiness(
    tmp_path: Path,
) -> None:
    broker = InMemoryBroker(mandatory=False)
    async with serving(bootstrap.build(settings(tmp_path), broker=broker)) as client:
        assert await probe(client, "/health/live") == (200, {"status": "ok"})
        ready = await probe(client, "/health/ready")
        assert ready == (
            200,
            {"status": "ok", "database": True, "broker": True, "relay": True, "failed": {}},
        )
        assert await probe(client, "/health") == ready
    await broker.stop()


async def test_ready_turns_503_while_the_database_takes_no_write_and_live_stays_200(
    tmp_path: Path,
) -> None:
    broker = InMemoryBroker(mandatory=False)
    async with serving(bootstrap.build(settings(tmp_path), broker=broker)) as client:
        with write_lock_held(tmp_path / "ordering.db"):
            code, report = await probe(client, "/health/ready")
            assert (code, report["status"]) == (503, "unavailable")
            assert report["failed"] == {"database": "took no write within 0.3s"}
            assert (report["database"], report["broker"], report["relay"]) == (False, True, True)
            assert (await probe(client, "/health"))[0] == 503
            assert await probe(client, "/health/live") == (200, {"status": "ok"})

        assert (await probe(client, "/health/ready"))[0] == 200
    await broker.stop()


async def test_ready_turns_503_while_the_broker_link_is_down_and_recovers_with_it(
    tmp_path: Path, rabbitmq_url: str
) -> None:
    proxy = BrokerProxy()
    proxy.start()
    try:
        service = bootstrap.build(settings(tmp_path, amqp_url=proxy.url(rabbitmq_url)))
        async with serving(service) as client:
            assert (await probe(client, "/health/ready"))[0] == 200

            proxy.go_down()
            report = await eventually(client, "/health/ready", 503)
            assert report["failed"] == {"broker": "the link to the broker is down"}
            assert await probe(client, "/health/live") == (200, {"status": "ok"})

            proxy.come_back()  # the robust connection reconnects by itself
            await eventually(client, "/health/ready", 200)
    finally:
        proxy.close()


class HangingPublisher(IMessagePublisher):
    """Publishes through ``inner`` only once released: until then the relay's batch hangs."""

    def __init__(self, inner: IMessagePublisher) -> None:
        self.inner = inner
        self.released = asyncio.Event()

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        await self.released.wait()
        await self.inner.publish(topic, message, **kwargs)


async def test_ready_turns_503_while_the_relay_is_stuck_and_live_stays_200(
    tmp_path: Path,
) -> None:
    broker = InMemoryBroker(mandatory=False)
    hanging: list[HangingPublisher] = []

    def hang(publisher: IMessagePublisher) -> IMessagePublisher:
        hanging.append(HangingPublisher(publisher))
        return hanging[0]

    service = bootstrap.build(
        # Idle, the relay finishes a batch every 0.05 s: only the hang makes it silent for 0.5 s.
        settings(tmp_path, relay_stuck_seconds=0.5, outbox_poll_interval=0.05),
        broker=broker,
        relay=RelayOptions(hang),
    )
    async with serving(service) as client:
        await asyncio.sleep(0.6)  # idle past the limit: not stuck, it keeps finishing batches
        assert (await probe(client, "/health/ready"))[0] == 200
        placed = await client.post("/orders", json=ORDER, headers=auth_headers())
        assert placed.status_code == 201, placed.text

        report = await eventually(client, "/health/ready", 503)
        assert list(report["failed"]) == ["relay"]
        assert report["failed"]["relay"].startswith("the outbox relay finished no batch for")
        assert await probe(client, "/health/live") == (200, {"status": "ok"})

        hanging[0].released.set()
        await eventually(client, "/health/ready", 200)
    await broker.stop()


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/health"])
async def test_the_probes_are_listed_in_the_openapi_schema(tmp_path: Path, path: str) -> None:
    broker = InMemoryBroker(mandatory=False)
    async with serving(bootstrap.build(settings(tmp_path), broker=broker)) as client:
        schema = (await client.get("/schema/openapi.json")).json()
        assert "get" in schema["paths"][path]
    await broker.stop()


@pytest.mark.postgres
def test_a_stuck_limit_an_idle_relay_would_reach_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="RELAY_STUCK_SECONDS"):
        bootstrap.OrderingSettings(relay_stuck_seconds=1.0, outbox_poll_interval=1.0)


async def test_on_postgresql_a_write_is_a_committed_transaction_id_and_read_only_is_refused(
    postgres_url: str,
) -> None:
    async with fresh_postgres_database(postgres_url, "probe") as url:
        engine = create_engine(url)
        try:
            await take_a_write(engine, timeout=2.0)
            async with engine.begin() as connection:
                name = make_url(url).database
                await connection.execute(
                    text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
                )
            await engine.dispose()  # new connections read the new default
            with pytest.raises(ReadOnlyDatabaseError):
                await take_a_write(engine, timeout=2.0)
        finally:
            await engine.dispose()

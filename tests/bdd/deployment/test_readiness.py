"""Scenarios: features/deployment/readiness.feature.

Ordering, assembled by its own bootstrap on a SQLite file and an in-process broker, served by
Litestar's test client on the scenario's event loop; the probes are asked over HTTP, as an
orchestrator asks them. The faults are real: another SQLite connection holding the write lock,
a publisher that does not return. The replica starts at its first request, once the Given
steps have said how.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal
from litestar.testing import AsyncTestClient
from pytest_bdd import given, parsers, scenarios, then, when

from cqrs_ddd_core.adapters.host.plumbing import DEFAULT_RELAY, RelayOptions
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.ports.messaging import IMessagePublisher
from ordering_service import bootstrap
from tests.tokens import TEST_AUTH_SECRET, auth_headers

scenarios("deployment/readiness.feature")

EVENTUALLY = 10.0
ORDER = {"customer_id": "alice", "items": [{"sku": "book", "quantity": 1, "unit_price": "5.00"}]}


class Gate(IMessagePublisher):
    """A publisher that holds every publish until it is opened."""

    def __init__(self, inner: IMessagePublisher) -> None:
        self.inner = inner
        self.opened = asyncio.Event()

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        await self.opened.wait()
        await self.inner.publish(topic, message, **kwargs)

    async def open(self) -> None:
        self.opened.set()


class Replica:
    """One ordering replica and the faults the scenario puts around it."""

    def __init__(self, portal: BlockingPortal, database: Path) -> None:
        self.portal = portal
        self.database = database
        self.broker = InMemoryBroker(mandatory=False)
        self.write_timeout = 0.3
        self.stuck_after = 60.0
        self.relay = DEFAULT_RELAY
        self.gates: list[Gate] = []
        self.lock_holder: sqlite3.Connection | None = None
        self._client: AsyncTestClient[Any] | None = None

    def gate(self, publisher: IMessagePublisher) -> IMessagePublisher:
        self.gates.append(Gate(publisher))
        return self.gates[-1]

    @property
    def client(self) -> AsyncTestClient[Any]:
        if self._client is None:
            settings = bootstrap.OrderingSettings(
                database_url=f"sqlite+aiosqlite:///{self.database}",
                ready_write_timeout_seconds=self.write_timeout,
                relay_stuck_seconds=self.stuck_after,
                # Idle, the relay finishes a batch every 0.05 s: only a hang silences it.
                outbox_poll_interval=0.05,
                auth_secret=TEST_AUTH_SECRET,
            )
            service = bootstrap.build(settings, broker=self.broker, relay=self.relay)
            client = AsyncTestClient(app=service.create_app())
            self._client = self.portal.call(client.__aenter__)
        return self._client

    def probe(self, path: str) -> tuple[int, dict[str, Any]]:
        response = self.portal.call(self.client.get, path)  # no token: the probes are public
        return response.status_code, response.json()

    def probe_until(self, path: str, status: int) -> dict[str, Any]:
        deadline = time.monotonic() + EVENTUALLY
        while True:
            code, body = self.probe(path)
            if code == status or time.monotonic() > deadline:
                assert code == status, body
                return body
            time.sleep(0.05)

    def close(self) -> None:
        if self.lock_holder is not None:
            self.lock_holder.close()
        for gate in self.gates:
            self.portal.call(gate.open)
        if self._client is not None:
            self.portal.call(self._client.__aexit__, None, None, None)
        self.portal.call(self.broker.stop)


@pytest.fixture
def replica(portal: BlockingPortal, tmp_path: Path) -> Iterator[Replica]:
    replica = Replica(portal, tmp_path / "ordering.db")
    try:
        yield replica
    finally:
        replica.close()


@given(parsers.parse("ordering runs on a SQLite file, allowed {seconds:f} seconds for a write"))
def ordering_on_sqlite(replica: Replica, seconds: float) -> None:
    replica.write_timeout = seconds


@given(
    parsers.parse(
        "the relay's publishes hang, and {seconds:f} seconds without a batch counts as stuck"
    )
)
def hanging_relay(replica: Replica, seconds: float) -> None:
    replica.relay = RelayOptions(wrap_publisher=replica.gate)
    replica.stuck_after = seconds


@when("another connection holds the database's write lock")
def hold_the_write_lock(replica: Replica) -> None:
    assert replica.probe("/health/ready")[0] == 200  # started, migrated, ready
    replica.lock_holder = sqlite3.connect(replica.database, isolation_level=None)
    replica.lock_holder.execute("BEGIN IMMEDIATE")


@when("the other connection lets the lock go")
def release_the_write_lock(replica: Replica) -> None:
    assert replica.lock_holder is not None
    replica.lock_holder.execute("ROLLBACK")


@when("a customer places an order")
def place_an_order(replica: Replica) -> None:
    client = replica.client  # started here, outside the event loop
    response = replica.portal.call(
        lambda: client.post("/orders", json=ORDER, headers=auth_headers())
    )
    assert response.status_code == 201, response.text


@when("the publishes go through again")
def open_the_gates(replica: Replica) -> None:
    for gate in replica.gates:
        replica.portal.call(gate.open)


@then("the replica is live")
def live(replica: Replica) -> None:
    assert replica.probe("/health/live") == (200, {"status": "ok"})


@then(parsers.parse('the replica is not ready because its {check} "{reason}"'))
def not_ready(replica: Replica, check: str, reason: str) -> None:
    code, report = replica.probe("/health/ready")
    assert code == 503
    assert list(report["failed"]) == [check]
    assert reason in report["failed"][check]


@then(parsers.parse('eventually the replica is not ready because its {check} "{reason}"'))
def eventually_not_ready(replica: Replica, check: str, reason: str) -> None:
    report = replica.probe_until("/health/ready", 503)
    assert list(report["failed"]) == [check]
    assert reason in report["failed"][check]


@then("the replica is ready")
def ready(replica: Replica) -> None:
    assert replica.probe("/health/ready")[0] == 200


@then("eventually the replica is ready")
def eventually_ready(replica: Replica) -> None:
    replica.probe_until("/health/ready", 200)

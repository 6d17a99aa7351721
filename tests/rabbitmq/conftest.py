"""Fixtures of the RabbitMQ adapter tests: unique names per test, a raw connection to look
at the broker directly, and a bounded wait for "eventually" checks."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import aio_pika
import pytest
from aio_pika.abc import AbstractConnection, AbstractRobustConnection

from cqrs_ddd_core.adapters.rabbitmq import RabbitMQConsumer, RabbitMQPublisher

Eventually = Callable[..., Awaitable[None]]


@pytest.fixture
def names() -> str:
    """A prefix that makes this test's exchanges and queues its own."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def raw(rabbitmq_url: str) -> AsyncIterator[AbstractConnection]:
    """A plain (not robust) aio-pika connection for looking at queues behind the adapter."""
    connection = await aio_pika.connect(rabbitmq_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def eventually() -> Eventually:
    """``await eventually(predicate, timeout=10)``: poll until ``predicate()`` (plain or async)
    is true; fail after the timeout, so a bug fails instead of hanging."""

    async def wait(predicate: Callable[[], object], timeout: float = 10.0) -> None:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    outcome = predicate()
                    if inspect.isawaitable(outcome):
                        outcome = await outcome
                    if outcome:
                        return
                    await asyncio.sleep(0.02)
        except TimeoutError:
            pytest.fail(f"condition still false after {timeout}s")

    return wait


@pytest.fixture
def queue_depth(raw: AbstractConnection) -> Callable[[str], Awaitable[int]]:
    """``await queue_depth(name)``: messages ready in a queue, from a fresh declaration
    (a passive declaration on a robust channel can return a stale count)."""

    async def depth(queue_name: str) -> int:
        channel = await raw.channel()
        try:
            queue = await channel.declare_queue(queue_name, passive=True)
            return queue.declaration_result.message_count or 0
        finally:
            await channel.close()

    return depth


@pytest.fixture
def drop_connections(rabbitmq_url: str) -> Callable[[], None]:
    """``drop_connections()``: the broker closes every connection of this run's vhost, as a
    broker restart would (robust connections must come back by themselves)."""
    vhost = unquote(urlsplit(rabbitmq_url).path[1:]) or "/"

    def drop() -> None:
        subprocess.run(
            ["rabbitmqctl", "-q", "close_all_connections", "-p", vhost, "broker goes away"],
            check=True,
            capture_output=True,
            timeout=60,
        )

    return drop


@pytest.fixture
async def publisher(rabbitmq_url: str, names: str) -> AsyncIterator[RabbitMQPublisher]:
    """A publisher on this test's exchange ``<names>.events``."""
    publisher = RabbitMQPublisher(rabbitmq_url, f"{names}.events")
    try:
        yield publisher
    finally:
        await publisher.close()


@pytest.fixture
async def make_consumer(
    rabbitmq_url: str, names: str
) -> AsyncIterator[Callable[..., RabbitMQConsumer]]:
    """``make_consumer(**options)``: a consumer on ``<names>.events``, stopped after the test.
    Each has a connection of its own (like a replica), unless ``connection=`` is given."""
    created: list[RabbitMQConsumer] = []

    def make(
        connection: str | AbstractRobustConnection | None = None, **options: Any
    ) -> RabbitMQConsumer:
        consumer = RabbitMQConsumer(connection or rabbitmq_url, f"{names}.events", **options)
        created.append(consumer)
        return consumer

    try:
        yield make
    finally:
        for consumer in created:
            await consumer.stop()

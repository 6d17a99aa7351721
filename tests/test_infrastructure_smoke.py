"""The real services the adapter tests need are reachable (and isolated per run)."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


@pytest.mark.rabbitmq
def test_the_run_has_a_broker_of_its_own(rabbitmq_url: str) -> None:
    async def roundtrip() -> bytes:
        connection = await aio_pika.connect(rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(exclusive=True)
            await channel.default_exchange.publish(aio_pika.Message(b"ping"), queue.name)
            message = await queue.get(timeout=5)
            await message.ack()
            return message.body

    assert asyncio.run(roundtrip()) == b"ping"


@pytest.mark.postgres
def test_the_run_has_a_database_of_its_own(postgres_url: str) -> None:
    async def database_name() -> str:
        engine = create_async_engine(postgres_url)
        try:
            async with engine.connect() as connection:
                return str((await connection.execute(text("select current_database()"))).scalar())
        finally:
            await engine.dispose()

    # Named after the server's database, then the run's own: never the shared database itself.
    assert "_cqrs_test_" in asyncio.run(database_name())

"""A broker virtual host, PostgreSQL databases and Redis key prefixes of a test's own.

Runs (and tests) share one RabbitMQ, one PostgreSQL and one Redis server. The services'
exchange and queue names are fixed, so two tests sharing a virtual host would share queues, two
sharing a database would share orders, and two sharing Redis keys would share locks: isolation
comes from giving each its own, removed afterwards. Every suite makes them here.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest
import redis
from sqlalchemy.engine import make_url

# --- RabbitMQ -------------------------------------------------------------------------------


def can_make_vhosts() -> bool:
    """Whether this process may create virtual hosts (``rabbitmqctl``, as root)."""
    return shutil.which("rabbitmqctl") is not None and os.geteuid() == 0


def require_vhosts(who: str) -> None:
    """Fail (``REQUIRE_RABBITMQ=1``) or skip when ``who`` cannot have a vhost of its own."""
    if can_make_vhosts():
        return
    message = f"{who} needs rabbitmqctl, as root, for a virtual host of its own"
    if os.environ.get("REQUIRE_RABBITMQ") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextmanager
def own_vhost(rabbitmq_url: str, prefix: str = "cqrs-test") -> Iterator[str]:
    """An AMQP URL on a new virtual host, deleted (with all it holds) on exit."""
    ctl = shutil.which("rabbitmqctl")
    assert ctl is not None, "check can_make_vhosts() first"
    url = urlsplit(rabbitmq_url)
    vhost = f"{prefix}-{uuid.uuid4().hex[:10]}"
    subprocess.run([ctl, "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        [ctl, "-q", "set_permissions", "-p", vhost, url.username or "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    try:
        yield urlunsplit((url.scheme, url.netloc, "/" + quote(vhost, safe=""), "", ""))
    finally:
        subprocess.run([ctl, "-q", "delete_vhost", vhost], check=False, capture_output=True)


# --- PostgreSQL -----------------------------------------------------------------------------


async def create_postgres_database(postgres_url: str, label: str = "") -> str:
    """A new empty database on ``postgres_url``'s server, named after its; its URL."""
    server = make_url(postgres_url)
    name = "_".join(part for part in (server.database, label, uuid.uuid4().hex[:8]) if part)
    await _admin_execute(postgres_url, f'CREATE DATABASE "{name}"')
    return server.set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(postgres_url: str, url: str) -> None:
    """Drop ``url``'s database (made by `create_postgres_database` from ``postgres_url``)."""
    name = make_url(url).database
    await _admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def fresh_postgres_database(postgres_url: str, label: str = "") -> AsyncIterator[str]:
    """A new empty database next to ``postgres_url``'s, dropped afterwards."""
    url = await create_postgres_database(postgres_url, label)
    try:
        yield url
    finally:
        await drop_postgres_database(postgres_url, url)


@contextmanager
def own_databases(postgres_url: str, services: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """A fresh database per service (outside any event loop), dropped on exit."""
    urls: dict[str, str] = {}
    try:
        for service in services:
            urls[service] = asyncio.run(create_postgres_database(postgres_url, service))
        yield urls
    finally:
        for url in urls.values():
            asyncio.run(drop_postgres_database(postgres_url, url))


async def _admin_execute(postgres_url: str, sql: str) -> None:
    """Run ``sql`` connected to ``postgres_url``'s database (never the one made or dropped)."""
    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


# --- Redis ----------------------------------------------------------------------------------


@contextmanager
def own_redis_prefix(redis_url: str, prefix: str = "cqrs-test") -> Iterator[str]:
    """A key prefix nobody else uses (``cqrs-test-<hex>:``); its keys are deleted on exit."""
    own = f"{prefix}-{uuid.uuid4().hex[:10]}:"
    try:
        yield own
    finally:
        client = redis.Redis.from_url(redis_url)
        try:
            keys = list(client.scan_iter(match=f"{own}*", count=500))
            if keys:
                client.delete(*keys)
        finally:
            client.close()

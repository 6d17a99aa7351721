"""A broker virtual host and databases of a test's own, removed afterwards.

The services' exchange and queue names are fixed, so two tests sharing a virtual host would
share queues, and two sharing a database would share orders: isolation comes from giving
each test (or test module) its own.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest
from sqlalchemy.engine import make_url


@contextmanager
def own_vhost(rabbitmq_url: str) -> Iterator[str]:
    """An AMQP URL on a new virtual host, deleted (with all it holds) on exit."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None or os.geteuid() != 0:
        message = "the reliability suite needs rabbitmqctl, as root, for a vhost per test"
        if os.environ.get("REQUIRE_RABBITMQ") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    url = urlsplit(rabbitmq_url)
    vhost = f"cqrs-reliability-{uuid.uuid4().hex[:10]}"
    user = url.username or "guest"
    subprocess.run([ctl, "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        [ctl, "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    try:
        yield urlunsplit((url.scheme, url.netloc, "/" + quote(vhost, safe=""), "", ""))
    finally:
        subprocess.run([ctl, "-q", "delete_vhost", vhost], check=False, capture_output=True)


@contextmanager
def own_databases(postgres_url: str) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database per service (on ``postgres_url``'s server), dropped on exit."""
    server = make_url(postgres_url)
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    suffix = uuid.uuid4().hex[:6]
    names = {
        service: f"{server.database}_{service}_{suffix}" for service in ("ordering", "billing")
    }

    async def execute(*statements: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(execute(*(f'CREATE DATABASE "{name}"' for name in names.values())))
    try:
        yield {
            service: server.set(database=name).render_as_string(hide_password=False)
            for service, name in names.items()
        }
    finally:
        drops = (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names.values())
        asyncio.run(execute(*drops))

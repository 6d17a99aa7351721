"""Shared fixtures: one event loop per scenario, and a guard against steps that never run.

pytest-bdd calls steps synchronously. A step written ``async def`` would never be awaited and
its scenario would pass without testing anything, so `pytest_bdd_before_step_call` refuses it.
Steps call async code through ``run`` instead: an anyio blocking portal whose event loop lives
for the whole scenario, so background tasks (relays, consumers) keep running between steps as
they do in production.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from tests.isolation import (
    can_make_vhosts,
    create_postgres_database,
    drop_postgres_database,
    own_redis_prefix,
    own_vhost,
)
from tests.messaging.support import OffsetClock

Run = Callable[..., Any]


def pytest_bdd_before_step_call(
    request: pytest.FixtureRequest,
    feature: Any,
    scenario: Any,
    step: Any,
    step_func: Callable[..., Any],
    step_func_args: dict[str, Any],
) -> None:
    if inspect.iscoroutinefunction(step_func):
        raise TypeError(
            f"Step {step.name!r} is 'async def': pytest-bdd would never await it. Write it "
            f"as a plain function that calls run(coroutine_function, *args)."
        )


@pytest.fixture
def outbox_clock() -> OffsetClock:
    """The clock of the outbox storages under test: real time that a test can move forward."""
    return OffsetClock()


@pytest.fixture
def portal() -> Iterator[BlockingPortal]:
    """An event loop in a background thread, alive for one test or scenario."""
    with start_blocking_portal(backend="asyncio") as portal:
        yield portal


@pytest.fixture
def run(portal: BlockingPortal) -> Run:
    """``run(async_fn, *args)`` runs ``async_fn(*args)`` on the scenario's event loop."""

    def call(fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        return portal.call(fn, *args)

    return call


# --- real infrastructure ------------------------------------------------------------------
#
# Adapter tests talk to the machine's real RabbitMQ, PostgreSQL and Redis. When a service is
# missing they skip - unless REQUIRE_RABBITMQ=1 / REQUIRE_POSTGRES=1 / REQUIRE_REDIS=1 (set by
# .ci/run), where a missing service fails the test: CI must never go green by skipping the
# tests that matter.

RABBITMQ_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get(
    "TEST_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _missing(service: str, variable: str, detail: str) -> None:
    message = f"{service} is not reachable ({detail})"
    if os.environ.get(variable) == "1":
        pytest.fail(f"{message}, and {variable}=1 requires it", pytrace=False)
    pytest.skip(f"{message}; set {variable}=1 to make this a failure")


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    """An AMQP URL on a virtual host of this test run's own, deleted afterwards.

    A vhost per run isolates runs sharing one broker: nothing declared here can meet another
    run's consumers. Without rabbitmqctl (not root) the default vhost is used, and tests rely
    on their unique exchange and queue names.
    """
    url = urlsplit(RABBITMQ_URL)
    if not _port_open(url.hostname or "127.0.0.1", url.port or 5672):
        _missing("RabbitMQ", "REQUIRE_RABBITMQ", RABBITMQ_URL)
    if not can_make_vhosts():
        yield RABBITMQ_URL
        return
    with own_vhost(RABBITMQ_URL) as vhost_url:
        yield vhost_url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy asyncpg URL to a fresh database of this test run, dropped afterwards."""
    admin = urlsplit(POSTGRES_ADMIN_URL)
    if not _port_open(admin.hostname or "127.0.0.1", admin.port or 5432):
        _missing("PostgreSQL", "REQUIRE_POSTGRES", POSTGRES_ADMIN_URL)
    server = urlunsplit(("postgresql+asyncpg", admin.netloc, admin.path, "", ""))
    url = asyncio.run(create_postgres_database(server, "cqrs_test"))
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(server, url))


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis (``TEST_REDIS_URL``); skipped or failed when it does not answer."""
    url = urlsplit(REDIS_URL)
    if not _port_open(url.hostname or "127.0.0.1", url.port or 6379):
        _missing("Redis", "REQUIRE_REDIS", REDIS_URL)
    return REDIS_URL


@pytest.fixture(scope="session")
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test run's own; every key under it is deleted afterwards."""
    with own_redis_prefix(redis_url) as prefix:
        yield prefix

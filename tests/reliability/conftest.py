"""Fixtures of the fault-injection suite (``pytest -m reliability``).

Each test gets a virtual host of its own (`vhost_url`) and, on PostgreSQL, a fresh database
per service (`postgres_urls`) and a Redis key prefix (`lock_prefix`) - see tests/isolation.py;
a `BrokerProxy` to pull the plug on
(`broker_proxy`); and clusters of service processes (`make_cluster`, over deploy/cluster.py)
that are killed after the test, with the tail of every process's log printed when it failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy.cluster import Cluster
from tests.isolation import own_databases, own_redis_prefix, own_vhost, require_vhosts
from tests.reliability.broker_proxy import BrokerProxy
from tests.reliability.shop import MakeCluster
from tests.tokens import TEST_AUTH_SECRET

FAILED = pytest.StashKey[bool]()
LOG_TAIL = 60
"""Lines of each service's log shown when a test fails."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[FAILED] = report.failed


@pytest.fixture
def vhost_url(rabbitmq_url: str) -> Iterator[str]:
    """An AMQP URL on a virtual host of this test alone."""
    require_vhosts("the reliability suite")
    with own_vhost(rabbitmq_url, "cqrs-reliability") as url:
        yield url


@pytest.fixture
def postgres_urls(postgres_url: str) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database per service for this test alone."""
    with own_databases(postgres_url, ("ordering", "billing")) as urls:
        yield urls


@pytest.fixture
def lock_prefix(redis_url: str) -> Iterator[str]:
    """A Redis key prefix for this test's locks alone; its keys are deleted afterwards."""
    with own_redis_prefix(redis_url, "cqrs-reliability") as prefix:
        yield prefix


@pytest.fixture
def broker_proxy() -> Iterator[BrokerProxy]:
    proxy = BrokerProxy()
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()


SHARED_SERVER_POOL = {"DATABASE_POOL_SIZE": "4", "DATABASE_MAX_OVERFLOW": "4"}


@pytest.fixture
def make_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeCluster]:
    """``make_cluster(amqp_url, database_urls=None, **kwargs)``: a `Cluster` (SQLite files
    unless ``database_urls`` are given) whose processes are killed after the test."""
    clusters: list[Cluster] = []

    def make(amqp_url: str, database_urls: dict[str, str] | None = None, **kwargs: Any) -> Cluster:
        # Pools sized for a shared server: two suites side by side, each with four replicas,
        # stay well under PostgreSQL's 100 connections (the default would allow 15 a replica).
        kwargs["extra_env"] = {**SHARED_SERVER_POOL, **kwargs.get("extra_env", {})}
        workdir = tmp_path / f"cluster-{len(clusters) + 1}"
        workdir.mkdir()
        if database_urls is None:
            cluster = Cluster.on_sqlite(workdir, amqp_url, TEST_AUTH_SECRET, **kwargs)
        else:
            cluster = Cluster(workdir, amqp_url, dict(database_urls), TEST_AUTH_SECRET, **kwargs)
        clusters.append(cluster)
        return cluster

    yield make
    for cluster in clusters:
        if request.node.stash.get(FAILED, False):
            for process in cluster.processes:
                tail = "\n".join(process.log_text().splitlines()[-LOG_TAIL:])
                print(f"\n----- {process.name} (last {LOG_TAIL} lines) -----\n{tail}")
        for process in cluster.processes:
            process.kill()  # the invariants were checked already: no drain to wait for

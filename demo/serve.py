"""`uv run just serve`: ordering and billing in one process, on the embedded default.

Each service keeps its own SQLite file under var/ (ORDERING_DATABASE_URL / BILLING_DATABASE_URL
override them) and both share one in-process broker. Ordering listens on ORDERING_PORT (8001),
billing on BILLING_PORT (8002). SIGTERM or Ctrl-C stops both gracefully: HTTP first, then each
service's shutdown (stop consuming, finish in-flight work, stop the relay).
This module only composes the two bootstraps: the services never import each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Iterator

import uvicorn

from billing_service import bootstrap as billing_bootstrap
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from ordering_service import bootstrap as ordering_bootstrap


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to `serve` (two servers share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve() -> None:
    broker = InMemoryBroker()
    ordering = ordering_bootstrap.build(
        ordering_bootstrap.OrderingSettings(
            port=int(os.environ.get("ORDERING_PORT", "8001")),
            database_url=os.environ.get(
                "ORDERING_DATABASE_URL", ordering_bootstrap.DEFAULT_DATABASE_URL
            ),
        ),
        broker=broker,
    )
    billing = billing_bootstrap.build(
        billing_bootstrap.BillingSettings(
            port=int(os.environ.get("BILLING_PORT", "8002")),
            database_url=os.environ.get(
                "BILLING_DATABASE_URL", billing_bootstrap.DEFAULT_DATABASE_URL
            ),
        ),
        broker=broker,
    )
    host = os.environ.get("HOST", "127.0.0.1")
    servers = [
        _Server(uvicorn.Config(service.create_app(), host=host, port=service.settings.port))
        for service in (billing, ordering)
    ]

    def stop_all() -> None:
        for server in servers:
            server.handle_exit(signal.SIGTERM, None)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_all)
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        await broker.stop()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve())


if __name__ == "__main__":
    main()

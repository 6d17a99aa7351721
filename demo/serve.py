"""`uv run just serve`: ordering and billing in one process, on the embedded default.

Each service keeps its own SQLite file under var/ (ORDERING_DATABASE_URL / BILLING_DATABASE_URL
override them) and both share one in-process broker. Ordering listens on ORDERING_PORT (8001),
billing on BILLING_PORT (8002): each service's settings, read with its name as prefix.
SIGTERM or Ctrl-C stops both gracefully: HTTP first, then each
service's shutdown (stop consuming, finish in-flight work, stop the relay).
Both verify bearer tokens with ``AUTH_SECRET``, or with the development secret when it is not
set - and say which at start; ``uv run just token alice`` prints a token for it.
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
from cqrs_ddd_core.adapters.host.logs import configure_logging
from cqrs_ddd_core.adapters.host.run import KEEP_ALIVE_SECONDS
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from deploy.tokens import describe_secret, secret_in_force
from ordering_service import bootstrap as ordering_bootstrap


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to `serve` (two servers share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve() -> None:
    broker = InMemoryBroker()
    # ORDERING_PORT, ORDERING_DATABASE_URL...: two services in one environment.
    secret = secret_in_force()  # one secret for both: a token works on either service
    ordering_settings = ordering_bootstrap.OrderingSettings(
        _env_prefix="ORDERING_", auth_secret=secret
    )
    billing_settings = billing_bootstrap.BillingSettings(_env_prefix="BILLING_", auth_secret=secret)
    ordering = ordering_bootstrap.build(ordering_settings, broker=broker)
    billing = billing_bootstrap.build(billing_settings, broker=broker)
    host = os.environ.get("HOST", "127.0.0.1")
    servers = [
        _Server(
            uvicorn.Config(
                service.create_app(),
                host=host,
                port=service.settings.port,
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
            )
        )
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
    configure_logging()
    logging.getLogger(__name__).warning(describe_secret())
    asyncio.run(serve())


if __name__ == "__main__":
    main()

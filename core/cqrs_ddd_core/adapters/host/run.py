"""`run_service`: one service in this process, under uvicorn, until SIGTERM or Ctrl-C.

What every service's ``__main__`` does: configure logging, build the service from its
settings, serve its app on ``HOST``:``PORT``. On SIGTERM uvicorn stops taking requests and
finishes those in flight (up to 30 s); the app's shutdown then runs `ServiceHost.stop`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import uvicorn

from cqrs_ddd_core.adapters.host.service import ServiceHost

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def run_service(build: Callable[[], ServiceHost]) -> None:
    """Build the service (after logging is configured, so building may log) and serve it."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    service = build()
    uvicorn.run(
        service.create_app(),
        host=service.settings.host,
        port=service.settings.port,
        timeout_graceful_shutdown=30,
    )

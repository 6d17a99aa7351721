"""`run_service`: one service in this process, under uvicorn, until SIGTERM or Ctrl-C.

What every service's ``__main__`` does: configure logging (logs.py: plain lines, control
characters escaped; the app leaves it alone, so a 500's traceback lands there), build the
service from its settings, serve its app on ``HOST``:``PORT``. Without ``AUTH_SECRET`` it
stops at once with one line saying why (exit status 1): a service that cannot verify tokens
must not serve. On SIGTERM uvicorn stops taking requests and finishes those in flight (up to
30 s); the app's shutdown then runs `ServiceHost.stop`.

The thing to notice is ``timeout_keep_alive``. A keep-alive connection that both ends may close
when idle races: if the server closes it just as the client sends the next request on it, the
client gets a ``ReadError`` (or "server disconnected") for a request the server never saw, and
cannot know whether it was handled. uvicorn closes idle connections after 5 s and httpx's pool
keeps them 5 s - and the server's clock starts first (when it writes the response), so a busy
client reuses connections the server is closing. The server therefore keeps idle connections
well past any client's pool expiry: the client, which knows when it sends, always closes first.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import uvicorn

from cqrs_ddd_core.adapters.host.logs import configure_logging
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.host.settings import MissingAuthSecretError

KEEP_ALIVE_SECONDS = 75
"""Idle keep-alive connections are kept this long: past httpx's 5 s, aiohttp's 15 s and the
60 s of the usual load balancers, so the server is never the side that closes first."""


def run_service(build: Callable[[], ServiceHost]) -> None:
    """Build the service (after logging is configured, so building may log) and serve it."""
    configure_logging()
    service = build()
    try:
        app = service.create_app()
    except MissingAuthSecretError as missing:
        sys.exit(f"{service.name}: {missing}")
    uvicorn.run(
        app,
        host=service.settings.host,
        port=service.settings.port,
        timeout_graceful_shutdown=30,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )

"""`run_service`: one service in this process, under uvicorn, until SIGTERM or Ctrl-C.

What every service's ``__main__`` does: configure logging (logs.py: plain lines, control
characters escaped; ``LOG_FORMAT=json`` for one JSON object per line), build the service
from its settings, start telemetry if the ``OTEL_*`` variables ask for it
(host/telemetry.py), serve its app on ``HOST``:``PORT``. Without ``AUTH_SECRET`` it stops
at once with one line saying why (exit status 1): a service that cannot verify tokens must
not serve. On SIGTERM uvicorn stops taking requests and finishes those in flight (up to
30 s); the app's shutdown then runs `ServiceHost.stop`, and buffered spans and metrics are
flushed.

The thing to notice is ``timeout_keep_alive``. A keep-alive connection that both ends may close
when idle races: if the server closes it just as the client sends the next request on it, the
client gets a ``ReadError`` (or "server disconnected") for a request the server never saw, and
cannot know whether it was handled. uvicorn closes idle connections after 5 s and httpx's pool
keeps them 5 s - and the server's clock starts first (when it writes the response), so a busy
client reuses connections the server is closing. The server therefore keeps idle connections
well past any client's pool expiry: the client, which knows when it sends, always closes first.

The event loop is uvloop's where it is installed (the ``host`` extra installs it on Linux and
macOS), else asyncio's own. Everything a service does - HTTP, the relay, the consumers, and
every hand-off of aiosqlite's worker thread - goes through the loop, and uvloop does that work
in C: about a sixth less CPU per order in each service (docs/deployment.md).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import uvicorn

from cqrs_ddd_core.adapters.host.logs import configure_logging
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.host.settings import MissingAuthSecretError
from cqrs_ddd_core.adapters.host.telemetry import start_telemetry
from cqrs_ddd_core.observability.logs import configure_log_format, uvicorn_log_config

KEEP_ALIVE_SECONDS = 75
"""Idle keep-alive connections are kept this long: past httpx's 5 s, aiohttp's 15 s and the
60 s of the usual load balancers, so the server is never the side that closes first."""


EVENT_LOOP = "auto"
"""uvicorn's choice: uvloop when it can be imported, asyncio's loop when it cannot."""


def run_service(build: Callable[[], ServiceHost]) -> None:
    """Build the service (after logging is configured, so building may log) and serve it."""
    configure_logging()
    service = build()
    telemetry = start_telemetry(service.name)  # None unless OTEL_EXPORTER_OTLP_ENDPOINT is set
    try:
        app = service.create_app()  # after telemetry: the app traces requests only if it is on
    except MissingAuthSecretError as missing:
        sys.exit(f"{service.name}: {missing}")
    configure_log_format(service.name, service.settings.log_format)  # after Litestar's own
    try:
        uvicorn.run(
            app,
            host=service.settings.host,
            port=service.settings.port,
            timeout_graceful_shutdown=30,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            loop=EVENT_LOOP,
            log_config=uvicorn_log_config(service.settings.log_format),
        )
    finally:
        if telemetry is not None:
            telemetry.shutdown()  # what is still buffered goes out before the process ends

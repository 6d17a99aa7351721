"""A service never closes an idle keep-alive connection before its HTTP clients do.

When both ends close idle connections after 5 s (uvicorn's default, httpx's pool), a client
reusing a connection at the moment the server closes it gets ``httpx.ReadError`` for a request
the server never read. Here a real client keeps a real connection idle past 5 s, then reuses
it: the server must still hold it (the same client port answers), where uvicorn's default
would have closed it under the client.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest
import uvicorn

from cqrs_ddd_core.adapters.host import run
from cqrs_ddd_core.adapters.host.run import KEEP_ALIVE_SECONDS

pytestmark = pytest.mark.slow

CLIENT_POOL_EXPIRY = 5.0  # httpx's default keepalive_expiry


def test_the_service_keeps_idle_connections_longer_than_the_clients_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(run.uvicorn, "run", lambda app, **options: served.update(options))

    class Settings:
        host, port = "127.0.0.1", 0
        log_format = "text"

    class Service:
        name = "ordering"
        settings = Settings()

        def create_app(self) -> object:
            return object()

    run.run_service(Service)  # type: ignore[arg-type]

    assert served["timeout_keep_alive"] == KEEP_ALIVE_SECONDS > CLIENT_POOL_EXPIRY


async def test_a_connection_idle_past_five_seconds_is_still_open_on_the_server() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        client_port = scope["client"][1]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(client_port).encode()})

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", timeout_keep_alive=KEEP_ALIVE_SECONDS)
    )
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:  # noqa: ASYNC110 - uvicorn tells it only through this flag
        await asyncio.sleep(0.01)
    try:
        limits = httpx.Limits(keepalive_expiry=30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as client:
            first = await client.get("/")
            await asyncio.sleep(CLIENT_POOL_EXPIRY + 1)
            second = await client.get("/")
        assert first.text == second.text  # the same connection (same client port) answered
    finally:
        server.should_exit = True
        await serving

"""`BrokerProxy`: a TCP relay between the services and RabbitMQ that the test can pull the plug on.

Why a proxy rather than stopping the broker or cutting connections with rabbitmqctl: stopping
RabbitMQ hits every test and program on the machine, and ``close_all_connections`` only
closes what is open at that instant - a robust connection is back within a second, so the
outage is a series of blips. Behind this proxy the services (started with its URL) meet a
broker that is *really gone* for as long as the test says: every open connection is reset and
every new one refused, exactly as with a broker that went down - and nothing else on the
machine notices. The test itself talks to RabbitMQ directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from deploy.cluster import free_port


class BrokerProxy:
    """Listens on ``127.0.0.1:<port>`` and relays every connection to ``upstream``."""

    def __init__(self, upstream_host: str = "127.0.0.1", upstream_port: int = 5672) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.connections_cut = 0
        """Connections reset by `go_down` (each a service link that saw the outage)."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._links: dict[asyncio.StreamWriter, asyncio.StreamWriter] = {}
        """Open links: the service's end -> the broker's end."""

    def url(self, amqp_url: str) -> str:
        """``amqp_url`` (same credentials and virtual host) through this proxy."""
        parts = urlsplit(amqp_url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    @property
    def up(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        self._thread.start()
        self.come_back()

    def go_down(self) -> None:
        """The broker vanishes: refuse new connections, reset every open one."""
        self._call(self._go_down())

    def come_back(self) -> None:
        """The broker is back: accept connections again (on the same port)."""
        self._call(self._listen())

    def close(self) -> None:
        if self._thread.is_alive():
            self._call(self._go_down())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._relay, "127.0.0.1", self.port, reuse_address=True
            )

    async def _go_down(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for client, upstream in list(self._links.items()):
            # A reset, not a polite close: the broker is gone.
            client.transport.abort()
            upstream.transport.abort()
            self.connections_cut += 1
        self._links.clear()

    async def _relay(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self.upstream)
        except OSError:
            client.transport.abort()
            return
        self._links[client] = upstream
        try:
            await asyncio.gather(
                self._pipe(client_reader, upstream), self._pipe(upstream_reader, client)
            )
        finally:
            self._links.pop(client, None)
            client.transport.abort()
            upstream.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        writer.transport.abort()  # one side ended: end the other, as a broken link does

"""`BrokerConnection`: one robust AMQP connection, opened lazily, owned or borrowed.

Pattern: connection management for a long-lived client. The one thing to notice:
``connect_robust`` reopens the connection, its channels, exchanges, queues, bindings and
consumers after a broker restart by itself - but an operation attempted *while* the link is
down fails at once, so callers wait for ``channel.ready()`` before retrying.
Guide: docs/components/publishers.md.
"""

from __future__ import annotations

import asyncio

import aio_pika
from aio_pika.abc import AbstractRobustConnection

RECONNECT_INTERVAL = 1.0
"""Seconds between reconnection attempts while the broker is away (aio-pika's default is 5)."""


class BrokerConnection:
    """A robust connection given as an AMQP URL (opened on first use, closed by `close`) or
    as an open connection (shared with others: `close` leaves it open)."""

    def __init__(self, source: str | AbstractRobustConnection, *, name: str) -> None:
        self._url = source if isinstance(source, str) else None
        self._connection = None if isinstance(source, str) else source
        self._owned = isinstance(source, str)
        self._name = name
        self._lock = asyncio.Lock()

    async def get(self) -> AbstractRobustConnection:
        """The open connection, connecting first if this is the first use."""
        async with self._lock:
            if self._connection is None:
                assert self._url is not None
                # The name shows in the broker's connection list, for operators.
                self._connection = await aio_pika.connect_robust(
                    self._url,
                    client_properties={"connection_name": self._name},
                    reconnect_interval=RECONNECT_INTERVAL,
                )
            return self._connection

    @property
    def opened(self) -> bool:
        """Whether the connection was opened (or given); it may be down since."""
        return self._connection is not None

    @property
    def link_up(self) -> bool:
        """Whether the connection is open right now - not closed, not waiting to reconnect."""
        connection = self._connection
        if connection is None or connection.is_closed:
            return False
        # A robust connection outlives its transport: while it reconnects, the transport is
        # gone or closed.
        transport = connection.transport
        return transport is not None and not transport.connection.is_closed

    async def close(self) -> None:
        """Close the connection if this object opened it."""
        async with self._lock:
            if self._owned and self._connection is not None:
                await self._connection.close()
                self._connection = None

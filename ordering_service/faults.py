"""Test-only fault switches of ordering: off by default, no cost when off.

The reliability suite (tests/reliability/) starts ordering as an OS process with one of these
environment variables set, to make a failure happen exactly where it wants it. Unset - as in
every deployment - `relay_publisher` returns the broker's publisher itself and
`relay_options` nothing, so the relay keeps the core's own defaults.

``FAULT_KILL_AFTER_PUBLISH=<n>``
    The outbox relay kills its own process (SIGKILL: no shutdown hook, nothing marked) right
    after the broker confirmed the *n*-th `OrderCreated` - published, but its outbox row not
    yet marked published. The next relay publishes it again: a duplicate on the wire, for
    billing's inbox to absorb. (Notifications are not counted: nothing deduplicates them.)
``FAULT_RELAY_LEASE_SECONDS=<seconds>``
    How long a relay's claim on outbox rows lasts (30 s otherwise), so the rows of a killed
    relay are taken over within a test instead of half a minute later.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Mapping
from typing import Any, TypedDict

from cqrs_ddd_core.ports.messaging import IMessagePublisher

logger = logging.getLogger(__name__)

COUNTED_TOPIC = "OrderCreated"


def relay_publisher(
    publisher: IMessagePublisher, env: Mapping[str, str] | None = None
) -> IMessagePublisher:
    """What the outbox relay publishes through: ``publisher`` itself unless a fault is set."""
    env = os.environ if env is None else env
    kill_after = int(env.get("FAULT_KILL_AFTER_PUBLISH", "0"))
    if kill_after <= 0:
        return publisher
    logger.warning("test-only fault on: SIGKILL after confirmed %s #%d", COUNTED_TOPIC, kill_after)
    return _KillAfterPublish(publisher, kill_after)


class RelayOptions(TypedDict, total=False):
    """Keyword arguments of the relay (`BufferedOutbox`) that a fault switch overrides."""

    lease_seconds: float


def relay_options(env: Mapping[str, str] | None = None) -> RelayOptions:
    env = os.environ if env is None else env
    lease = env.get("FAULT_RELAY_LEASE_SECONDS")
    return {} if lease is None else {"lease_seconds": float(lease)}


class _KillAfterPublish(IMessagePublisher):
    def __init__(self, publisher: IMessagePublisher, kill_after: int) -> None:
        self._publisher = publisher
        self._kill_after = kill_after
        self._confirmed = 0

    async def publish(self, topic: str, message: Any, **kwargs: Any) -> None:
        await self._publisher.publish(topic, message, **kwargs)
        if topic != COUNTED_TOPIC:
            return
        self._confirmed += 1
        if self._confirmed == self._kill_after:
            # print, not logging: the line must reach the log before the process vanishes.
            print(
                f"FAULT_KILL_AFTER_PUBLISH kills the relay after {kwargs.get('message_id')}",
                flush=True,
            )
            os.kill(os.getpid(), signal.SIGKILL)

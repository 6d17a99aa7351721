"""`Plumbing`: storage, broker channel and outbox relay, opened the same way for every service.

`Plumbing.open` reads the settings: the storage from ``DATABASE_URL`` (see storage.py), the
broker from ``AMQP_URL`` - or, given an `InMemoryBroker`, that broker shared in process (the
embedded default) - and an outbox relay (`BufferedOutbox`) from the one to the other, which
also deletes old published rows and inbox records (``OUTBOX_RETENTION_DAYS``,
``INBOX_RETENTION_DAYS``, ``RETENTION_INTERVAL``).

The thing to notice is `RelayOptions`: the relay's seams, ordinary parameters with the
production values as defaults. The fault-injection suite passes a publisher wrapper that kills
the process after a publish, and a short lease; a deployment passes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from cqrs_ddd_core.adapters.broker_channel import (
    BrokerChannel,
    in_process_channel,
    rabbitmq_channel,
)
from cqrs_ddd_core.adapters.host.settings import ServiceSettings
from cqrs_ddd_core.adapters.host.storage import Storage, StorageRecipe, open_storage
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.cqrs.outbox.buffered import BufferedOutbox
from cqrs_ddd_core.cqrs.outbox.retention import Retention
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.ports.messaging import IMessagePublisher


def _itself(publisher: IMessagePublisher) -> IMessagePublisher:
    return publisher


@dataclass(frozen=True)
class RelayOptions:
    """How the outbox relay publishes: the broker itself, a 30 s lease, marks gathered 0.5 s."""

    wrap_publisher: Callable[[IMessagePublisher], IMessagePublisher] = _itself
    """What the relay publishes through, given the broker's publisher."""
    lease_seconds: float = 30.0
    """How long a relay's claim on outbox rows lasts before another relay may take them."""
    mark_delay: float = 0.5
    """How long the marks of published rows may wait to share one transaction (the relay's
    default is 0, a mark per batch): one order at a time, that was a transaction per event."""


DEFAULT_RELAY = RelayOptions()
"""What a deployment uses: the broker's publisher itself, the standard lease."""


@dataclass
class Plumbing:
    """What every service builds the same way from its settings."""

    storage: Storage
    broker: BrokerChannel
    outbox: BufferedOutbox

    @classmethod
    def open(
        cls,
        settings: ServiceSettings,
        recipe: StorageRecipe,
        *,
        broker: InMemoryBroker | None = None,
        relay: RelayOptions = DEFAULT_RELAY,
        locks: ILockStrategy | None = None,
    ) -> Plumbing:
        """Open storage and broker; pass ``broker`` to share an in-process one, ``locks`` to
        keep the locks elsewhere than next to the database (the storage closes them)."""
        storage = open_storage(
            settings.database_url,
            recipe,
            locks=locks,
            idempotency_ttl=timedelta(seconds=settings.idempotency_ttl_seconds),
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        channel = (
            in_process_channel(broker)
            if broker is not None
            else rabbitmq_channel(settings.amqp_url, settings.exchange_name)
        )
        outbox = BufferedOutbox(
            storage=storage.outbox,
            broker=relay.wrap_publisher(channel.publisher),
            poll_interval=settings.outbox_poll_interval,
            # A 2 ms debounce instead of the relay's 100 ms default: an event reaches the other
            # service in milliseconds, and the commits of one burst still share a batch.
            wait_delay=0.002,
            lease_seconds=relay.lease_seconds,
            mark_delay=relay.mark_delay,
            retention=Retention(
                storage.outbox,
                storage.inbox,
                outbox_age=timedelta(days=settings.outbox_retention_days),
                inbox_age=timedelta(days=settings.inbox_retention_days),
                interval=settings.retention_interval,
            ),
        )
        return cls(storage, channel, outbox)

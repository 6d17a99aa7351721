"""`IIdempotencyStorage`: the responses of retried requests - an inbox at the HTTP edge.

A client that timed out does not know whether its ``POST`` took effect, so it sends it again
with the same ``Idempotency-Key`` header (the IETF httpapi draft's header; Stripe's API and
eShop's ``IdentifiedCommand`` are the same idea). The edge remembers, per caller and key, the
response it gave; a retry gets that response again instead of a second effect.

The thing to notice, as with the consumer's inbox (ports/inbox.py): the record is written by
`save` in the **unit of work of the request's command**, so the response is stored in the same
transaction as the effects it reports - both commit or neither does. Rows are keyed on
``(caller, key)``: two callers may pick the same key. If two requests with one key race, the
second `save` finds the first one's record (``False``) - or, in memory, its commit fails with
`ConcurrencyError` - and its own effects are rolled back.

Records expire ``ttl`` after they are stored (``IDEMPOTENCY_TTL_SECONDS``, 24 h by default):
an expired record is never replayed, its key may be used again, and `purge_expired` (run by
every `save`) deletes old ones.
The edge: adapters/litestar/idempotency.py. Guide: docs/patterns/idempotency.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta

from cqrs_ddd_core.ports.unit_of_work import UnitOfWork

DEFAULT_TTL = timedelta(hours=24)
PURGE_BATCH = 100
"""How many expired records one `save` deletes at most, so a backlog never slows a request."""


@dataclass(frozen=True)
class RecordedResponse:
    """What the first request was answered, replayed byte for byte."""

    status_code: int
    body: bytes
    media_type: str


@dataclass(frozen=True)
class IdempotencyRecord:
    """The response ``caller`` got for the request it sent with ``key``."""

    caller: str
    key: str
    fingerprint: str
    """What the request was (method, path, body): a retry must be the same request."""
    response: RecordedResponse
    expires_at: datetime


class IIdempotencyStorage(ABC):
    """Responses by ``(caller, key)``, each stored in its command's transaction."""

    ttl: timedelta

    @abstractmethod
    async def find(self, caller: str, key: str) -> IdempotencyRecord | None:
        """The unexpired record of ``(caller, key)`` as committed now, else ``None``.

        A short read of its own, outside every unit of work: the edge looks before it opens one.
        """

    @abstractmethod
    async def save(
        self,
        caller: str,
        key: str,
        fingerprint: str,
        response: RecordedResponse,
        *,
        uow: UnitOfWork | None = None,
    ) -> bool:
        """Store the record in ``uow``'s transaction (default: the current one), expiring ``ttl``
        from now; an expired record of the same key is replaced.

        ``False`` when an unexpired record of ``(caller, key)`` exists already (another request
        with the key committed first: roll back). A record committed by another transaction
        after this call may instead fail the commit with `ConcurrencyError`.
        """

    @abstractmethod
    async def purge_expired(
        self, *, limit: int = PURGE_BATCH, uow: UnitOfWork | None = None
    ) -> int:
        """Delete up to ``limit`` expired records (skipping any another transaction holds);
        how many."""

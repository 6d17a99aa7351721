"""`ILockStrategy`: pessimistic locks on named resources.

The contract every strategy honours (and the contract tests check): exclusion holds across
``await``s; a token per acquisition, and release with a wrong token is an error; the same
``session_id`` re-enters (reference counted); an expired TTL frees the lock of a holder that
vanished. `aclose` is the one optional method: a strategy with connections of its own (Redis)
closes them there, and whoever built the strategy calls it once, on shutdown (the service
host's storage does). Guide: docs/components/critical-section.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from cqrs_ddd_core.primitives.locking import ResourceIdentifier


@dataclass(frozen=True)
class LockInfo:
    """One lock held right now, as `ILockStrategy.get_active_locks` reports it."""

    resource: ResourceIdentifier
    token: str
    session_id: str | None
    expires_at: datetime
    holds: int = 1
    """How many times its session entered it (re-entrancy count)."""


class ILockStrategy(ABC):
    """A lock manager. ``timeout`` bounds the wait; ``ttl`` bounds how long a lock lives."""

    held_by_transaction: ClassVar[bool] = False
    """Whether the lock is part of the unit of work's transaction, taken in it and released by
    its end. Then no one waits for such a lock while holding the database elsewhere, and a
    consumer may check its inbox inside the message's transaction (``check_inbox_inside``)."""

    @abstractmethod
    async def acquire(
        self,
        resource: ResourceIdentifier,
        *,
        timeout: float,
        ttl: float,
        session_id: str | None = None,
    ) -> str:
        """Wait up to ``timeout`` seconds for the lock; return its token.

        Raises `LockAcquisitionError` when the wait times out.
        """

    @abstractmethod
    async def release(self, resource: ResourceIdentifier, token: str) -> None:
        """Release one hold; raises `LockReleaseError` if ``token`` does not hold it."""

    @abstractmethod
    async def extend(self, resource: ResourceIdentifier, token: str, ttl: float) -> bool:
        """Push the expiry to ``ttl`` seconds from now; ``False`` if the lock was lost."""

    @abstractmethod
    async def health_check(self) -> bool:
        """``True`` when the backing store answers."""

    @abstractmethod
    async def get_active_locks(self) -> list[LockInfo]:
        """Every unexpired lock, for diagnostics and tests."""

    async def verify(self) -> None:  # noqa: B027 - optional on purpose: most need nothing
        """Raise when the strategy cannot work at all (its table is missing); start-up calls it.

        Nothing by default: only a strategy with something to be missing checks.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional on purpose: most own nothing
        """Close what the strategy owns (connections); nothing by default.

        Locks still held are not released: they free when their ttl runs out.
        """

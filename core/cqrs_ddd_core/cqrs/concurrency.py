"""`CriticalSection`: hold several resources at once, without deadlocks.

The thing to notice is the ``sorted(set(resources))`` in the constructor: every section takes
its locks in one global order, so two sections wanting the same accounts in opposite orders
queue up one behind the other instead of each holding what the other needs. Everything else
follows from it: a failure part-way releases what was taken and names the resource that
failed; the same ``session_id`` re-enters a lock it already holds (the strategy counts holds).

Scenario: features/core/critical_section.feature. Guide: docs/components/critical-section.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from types import TracebackType
from typing import Self

from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError, LockReleaseError
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
"""Seconds to wait for each lock."""
DEFAULT_TTL = 30.0
"""Seconds a lock lives unless released or extended: how long a crashed holder blocks others."""


class CriticalSection:
    """Async context manager that acquires locks on multiple resources.

    - Locks multiple resources, all or none
    - Prevents deadlocks via sorted acquisition
    - Supports reentrancy via session_id
    - Auto-releases on exit
    - Rolls back partial locks on failure
    """

    def __init__(
        self,
        resources: Iterable[ResourceIdentifier],
        lock_strategy: ILockStrategy,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        ttl: float = DEFAULT_TTL,
        session_id: str | None = None,
    ) -> None:
        # One global order for everyone: this line is the deadlock prevention.
        self.resources: list[ResourceIdentifier] = sorted(set(resources))
        self.lock_strategy = lock_strategy
        self.timeout = timeout
        self.ttl = ttl
        self.session_id = session_id
        self._held: list[tuple[ResourceIdentifier, str]] = []

    @property
    def tokens(self) -> dict[ResourceIdentifier, str]:
        """The token of each lock held right now."""
        return dict(self._held)

    async def acquire(self) -> None:
        """Take every lock in order; on any failure release those taken and raise.

        Raises `LockAcquisitionError` naming the resource that failed, the timeout and why.
        """
        if self._held:
            raise RuntimeError("This CriticalSection holds its locks already; enter it once")
        for resource in self.resources:
            try:
                token = await self.lock_strategy.acquire(
                    resource, timeout=self.timeout, ttl=self.ttl, session_id=self.session_id
                )
            except BaseException as exc:
                await self._release_quietly()
                if isinstance(exc, Exception) and not isinstance(exc, LockAcquisitionError):
                    # The lock store itself failed (e.g. the database is down): say which lock.
                    raise LockAcquisitionError(
                        resource, self.timeout, f"the lock store failed: {exc!r}"
                    ) from exc
                raise
            self._held.append((resource, token))

    async def release(self) -> None:
        """Release every lock held, in reverse order; raise the first failure at the end.

        Every lock is attempted even when one fails. A `LockReleaseError` here usually means a
        lock outlived its ttl while held - others may have entered meanwhile.
        """
        held, self._held = self._held, []
        failures: list[tuple[ResourceIdentifier, Exception]] = []
        for resource, token in reversed(held):
            try:
                await self.lock_strategy.release(resource, token)
            except Exception as exc:
                failures.append((resource, exc))
        if failures:
            resource, first = failures[0]
            if isinstance(first, LockReleaseError):
                raise first
            raise LockReleaseError(resource, f"the lock store failed: {first!r}") from first

    async def __aenter__(self) -> Self:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.release()
        else:
            await self._release_quietly()  # the body's error is the one worth seeing

    async def _release_quietly(self) -> None:
        try:
            await self.release()
        except Exception:
            logger.exception("releasing the locks of %s failed", self.resources)

    def __repr__(self) -> str:
        names = ", ".join(str(r) for r in self.resources)
        return f"CriticalSection([{names}], session_id={self.session_id!r})"

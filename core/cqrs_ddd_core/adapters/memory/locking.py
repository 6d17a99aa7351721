"""`InMemoryLockStrategy`: pessimistic locks within one process, the whole `ILockStrategy` contract.

A lock here is a record (token, session, hold count, expiry) plus a FIFO queue of waiters.
The thing to notice: a released lock is **handed over** to the first waiter, never left free
for whoever runs next - so a newcomer cannot barge past the queue, and two holders can never
slip in together. A holder that vanishes without releasing is not waited on forever: a waiter
wakes when the holder's TTL runs out and takes the lock over by itself.

Asyncio only, one event loop; use the SQLAlchemy strategy across processes.
Scenario: features/core/critical_section.feature. Guide: docs/components/critical-section.md.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cqrs_ddd_core.ports.locking import ILockStrategy, LockInfo
from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError, LockReleaseError
from cqrs_ddd_core.primitives.ids import new_id
from cqrs_ddd_core.primitives.locking import ResourceIdentifier


@dataclass
class _Lock:
    resource: ResourceIdentifier
    token: str
    session_id: str | None
    expires_at: float
    """On the event loop's monotonic clock."""
    holds: int = 1


@dataclass
class _Waiter:
    session_id: str | None
    ttl: float
    granted: asyncio.Future[str]
    """Resolved with the token when the lock is handed over to this waiter."""


class InMemoryLockStrategy(ILockStrategy):
    """Re-entrant, FIFO-fair locks with TTL, on one asyncio event loop."""

    def __init__(self) -> None:
        self._locks: dict[str, _Lock] = {}
        self._waiters: dict[str, deque[_Waiter]] = {}

    async def acquire(
        self,
        resource: ResourceIdentifier,
        *,
        timeout: float,
        ttl: float,
        session_id: str | None = None,
    ) -> str:
        _require_positive(ttl=ttl)
        key = resource.key
        lock = self._live_lock(key)
        if lock is not None and session_id is not None and lock.session_id == session_id:
            return self._reenter(lock, ttl)
        if lock is None and not self._waiters.get(key):
            return self._grant(resource, session_id, ttl).token
        return await self._wait(resource, session_id, timeout=timeout, ttl=ttl)

    async def release(self, resource: ResourceIdentifier, token: str) -> None:
        key = resource.key
        lock = self._locks.get(key)
        if lock is None or lock.token != token:
            raise LockReleaseError(
                resource,
                "this token does not hold it (released already, taken over after its ttl "
                "expired, or never acquired)",
            )
        if lock.expires_at <= _now():
            self._expire(key)
            raise LockReleaseError(
                resource,
                "its ttl expired before the release, so others may have entered meanwhile; "
                "use a longer ttl or extend() the lock while working",
            )
        self._release_hold(resource, token)

    async def extend(self, resource: ResourceIdentifier, token: str, ttl: float) -> bool:
        _require_positive(ttl=ttl)
        lock = self._live_lock(resource.key)
        if lock is None or lock.token != token:
            return False
        lock.expires_at = _now() + ttl
        return True

    async def health_check(self) -> bool:
        return True  # nothing outside this process to lose

    async def get_active_locks(self) -> list[LockInfo]:
        for key in list(self._locks):
            self._live_lock(key)  # expired locks go (and pass to their waiters) first
        return [_info(lock) for lock in self._locks.values()]

    # --- waiting in line -------------------------------------------------------------------

    async def _wait(
        self, resource: ResourceIdentifier, session_id: str | None, *, timeout: float, ttl: float
    ) -> str:
        key = resource.key
        waiter = _Waiter(session_id, ttl, asyncio.get_running_loop().create_future())
        self._waiters.setdefault(key, deque()).append(waiter)
        deadline = _now() + timeout
        try:
            while not waiter.granted.done():
                remaining = deadline - _now()
                if remaining <= 0:
                    raise LockAcquisitionError(resource, timeout, self._busy_reason(key))
                holder = self._locks.get(key)
                if holder is None:  # free with a queue: let the queue's head have it
                    self._hand_over(resource)
                    continue
                # Wake at the holder's expiry too: a vanished holder never calls release.
                wake_in = min(remaining, holder.expires_at - _now())
                await asyncio.wait([waiter.granted], timeout=max(wake_in, 0.0))
                self._live_lock(key)
        except BaseException:
            self._give_up(resource, waiter)
            raise
        return waiter.granted.result()

    def _give_up(self, resource: ResourceIdentifier, waiter: _Waiter) -> None:
        """Leave the queue after a timeout or a cancellation, returning a lock granted meanwhile."""
        queue = self._waiters.get(resource.key)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
            if not queue:
                del self._waiters[resource.key]
        if waiter.granted.done() and not waiter.granted.cancelled():
            # Handed over just as we stopped waiting: nobody will ever release it but us.
            self._release_hold(resource, waiter.granted.result())
        else:
            waiter.granted.cancel()

    def _busy_reason(self, key: str) -> str:
        holder = self._locks.get(key)
        if holder is None:
            return "other waiters were ahead in the queue"
        who = f"session {holder.session_id!r}" if holder.session_id else "another holder"
        return (
            f"still held by {who} (expires in {max(holder.expires_at - _now(), 0.0):.2f}s); "
            f"it frees when its holder releases or its ttl runs out"
        )

    # --- granting, expiring, handing over --------------------------------------------------

    def _live_lock(self, key: str) -> _Lock | None:
        """The current lock of ``key``, after dropping it if its ttl has run out."""
        lock = self._locks.get(key)
        if lock is not None and lock.expires_at <= _now():
            self._expire(key)
            return self._locks.get(key)  # possibly the waiter it was handed to
        return lock

    def _expire(self, key: str) -> None:
        lock = self._locks.pop(key)
        self._hand_over(lock.resource)

    def _grant(self, resource: ResourceIdentifier, session_id: str | None, ttl: float) -> _Lock:
        lock = _Lock(resource, new_id(), session_id, _now() + ttl)
        self._locks[resource.key] = lock
        return lock

    def _release_hold(self, resource: ResourceIdentifier, token: str) -> None:
        lock = self._locks.get(resource.key)
        if lock is None or lock.token != token:
            return  # expired and taken over already
        lock.holds -= 1
        if lock.holds == 0:
            del self._locks[resource.key]
            self._hand_over(resource)

    @staticmethod
    def _reenter(lock: _Lock, ttl: float) -> str:
        lock.holds += 1
        lock.expires_at = max(lock.expires_at, _now() + ttl)
        return lock.token

    def _hand_over(self, resource: ResourceIdentifier) -> None:
        """Give a free lock to the first waiter still waiting, and to its session's others."""
        queue = self._waiters.get(resource.key)
        while queue:
            waiter = queue.popleft()
            if waiter.granted.done():  # gave up (timeout or cancellation) meanwhile
                continue
            lock = self._grant(resource, waiter.session_id, waiter.ttl)
            waiter.granted.set_result(lock.token)
            if waiter.session_id is not None:
                # A session never waits for itself: its other waiters re-enter at once.
                for other in [w for w in queue if w.session_id == waiter.session_id]:
                    queue.remove(other)
                    if not other.granted.done():
                        other.granted.set_result(self._reenter(lock, other.ttl))
            break
        if queue is not None and not queue:
            del self._waiters[resource.key]


def _now() -> float:
    return asyncio.get_running_loop().time()


def _info(lock: _Lock) -> LockInfo:
    expires_at = datetime.now(UTC) + timedelta(seconds=lock.expires_at - _now())
    return LockInfo(lock.resource, lock.token, lock.session_id, expires_at, lock.holds)


def _require_positive(*, ttl: float) -> None:
    if ttl <= 0:
        raise ValueError(f"ttl must be positive seconds, got {ttl!r}")

"""docs/reference/locking.md: every CriticalSection example of the original README, as written.

Each example's body is the spec's, verbatim, inside a test function; only the names the spec
leaves undefined are filled in: ``lock_strategy`` is an `InMemoryLockStrategy`, ``redis_lock``
a lock store several processes share (here `SqlAlchemyLockStrategy` on a SQLite file), and
``transfer_funds`` / ``process_order`` record which locks were held while they ran. The
error-handling example needs a lock on "456" that fails: its ``lock_strategy`` is one whose
store fails for that account (a ``timeout=10.0`` wait for a busy lock would be too slow here).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy, create_schema
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

held_while_running: list[dict[str, int]] = []
ttl_left_while_running: list[float] = []
lock_strategy: ILockStrategy = InMemoryLockStrategy()
redis_lock: ILockStrategy = InMemoryLockStrategy()


async def record_held_locks() -> None:
    locks = await lock_strategy.get_active_locks() + await redis_lock.get_active_locks()
    held_while_running.append({str(lock.resource): lock.holds for lock in locks})
    now = datetime.now(UTC)
    ttl_left_while_running.extend((lock.expires_at - now).total_seconds() for lock in locks)


async def transfer_funds(
    from_account: str = "123", to_account: str = "456", amount: int = 0
) -> None:
    await record_held_locks()


async def process_order(order_id: str) -> None:
    await record_held_locks()


@pytest.fixture(autouse=True)
def fresh_locks() -> None:
    global lock_strategy, redis_lock
    lock_strategy = InMemoryLockStrategy()
    redis_lock = InMemoryLockStrategy()
    held_while_running.clear()
    ttl_left_while_running.clear()


async def test_basic_multi_resource_locking() -> None:
    # --- spec: Basic Multi-Resource Locking (imports at the top of this file) ---
    # Define resources to lock
    resources = [
        ResourceIdentifier("Account", "123"),
        ResourceIdentifier("Account", "456"),
    ]

    # Acquire locks atomically
    async with CriticalSection(resources, lock_strategy) as section:
        # Both accounts are locked here
        await transfer_funds(from_account="123", to_account="456", amount=100)
        # Locks auto-released on exit
    # --- end of the example ---

    assert held_while_running == [{"Account:123": 1, "Account:456": 1}]
    assert section.resources == resources
    assert await lock_strategy.get_active_locks() == []


async def test_with_custom_timeout_and_ttl(tmp_path: Path) -> None:
    global redis_lock
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'locks.db'}")
    await create_schema(engine)
    redis_lock = SqlAlchemyLockStrategy(engine)
    try:
        # --- spec: With Custom Timeout and TTL ---
        resources = [
            ResourceIdentifier("Order", "order-123"),
        ]

        async with CriticalSection(
            resources,
            lock_strategy=redis_lock,
            timeout=5.0,  # Wait up to 5s per lock
            ttl=60.0,  # Locks expire after 60s
        ) as section:
            await process_order("order-123")
        # --- end of the example ---

        assert held_while_running == [{"Order:order-123": 1}]
        assert (section.timeout, section.ttl) == (5.0, 60.0)
        [ttl_left] = ttl_left_while_running  # the lock really lives 60 s, not a default
        assert 55.0 < ttl_left <= 60.0
        assert await redis_lock.get_active_locks() == []
    finally:
        await engine.dispose()


async def test_preventing_deadlocks() -> None:
    # --- spec: Preventing Deadlocks ---
    # Resources are automatically sorted to prevent deadlocks
    resources_a = [
        ResourceIdentifier("Account", "123"),
        ResourceIdentifier("Account", "456"),
    ]

    resources_b = [
        ResourceIdentifier("Account", "456"),  # Different order
        ResourceIdentifier("Account", "123"),
    ]

    # Both will acquire in same order: 123, 456 → no deadlock
    async with CriticalSection(resources_a, lock_strategy):
        ...

    async with CriticalSection(resources_b, lock_strategy):
        ...
    # --- end of the example ---

    assert CriticalSection(resources_b, lock_strategy).resources == resources_a

    # And run at once, holding their locks across an await, they still never deadlock.
    async def hold(resources: list[ResourceIdentifier]) -> None:
        async with CriticalSection(resources, lock_strategy, timeout=5.0):
            await asyncio.sleep(0.001)

    jobs = [hold(resources_a) for _ in range(10)] + [hold(resources_b) for _ in range(10)]
    await asyncio.wait_for(asyncio.gather(*jobs), 10)
    assert await lock_strategy.get_active_locks() == []


async def test_reentrant_locking_same_session() -> None:
    # --- spec: Reentrant Locking (Same Session) ---
    from cqrs_ddd_core.cqrs.concurrency import CriticalSection

    # Same session ID allows reentrant locking
    session_id = "user-session-abc"

    async def outer_operation():
        resources = [ResourceIdentifier("Order", "order-123")]

        async with CriticalSection(resources, lock_strategy, session_id=session_id):
            # Lock acquired
            await inner_operation()

    async def inner_operation():
        resources = [ResourceIdentifier("Order", "order-123")]

        async with CriticalSection(resources, lock_strategy, session_id=session_id):
            # Same session → reentrant lock allowed
            await process_order("order-123")

    # --- end of the example ---

    await asyncio.wait_for(outer_operation(), 5)

    assert held_while_running == [{"Order:order-123": 2}]
    assert await lock_strategy.get_active_locks() == []


class LockStoreDownFor(InMemoryLockStrategy):
    """A lock store that fails for one account, as a store does when it becomes unreachable."""

    def __init__(self, failing_id: str) -> None:
        super().__init__()
        self.failing_id = failing_id

    async def acquire(
        self,
        resource: ResourceIdentifier,
        *,
        timeout: float,
        ttl: float,
        session_id: str | None = None,
    ) -> str:
        if resource.resource_id == self.failing_id:
            raise ConnectionError(f"lock store unreachable while locking {resource}")
        return await super().acquire(resource, timeout=timeout, ttl=ttl, session_id=session_id)


async def test_error_handling_and_rollback(capsys: pytest.CaptureFixture[str]) -> None:
    global lock_strategy
    lock_strategy = LockStoreDownFor("456")

    # --- spec: Error Handling and Rollback ---
    from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError

    resources = [
        ResourceIdentifier("Account", "123"),
        ResourceIdentifier("Account", "456"),
    ]

    try:
        async with CriticalSection(resources, lock_strategy, timeout=10.0):
            # If lock on "456" fails, lock on "123" is auto-released
            await transfer_funds()
    except LockAcquisitionError as e:
        print(f"Failed to acquire lock: {e.resource}")
        print(f"Timeout: {e.timeout}s")
        print(f"Reason: {e.reason}")
    # --- end of the example ---

    printed = capsys.readouterr().out.splitlines()
    assert printed[:2] == ["Failed to acquire lock: Account:456", "Timeout: 10.0s"]
    assert printed[2].startswith("Reason: the lock store failed: ConnectionError(")
    assert held_while_running == []  # the body never ran
    assert await lock_strategy.get_active_locks() == []  # "123" was released

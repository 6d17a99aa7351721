"""Scenarios: features/core/critical_section.feature (CriticalSection over InMemoryLockStrategy)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError, LockReleaseError
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.conftest import Run

scenarios("core/critical_section.feature")


def resources(names: str) -> list[ResourceIdentifier]:
    """``"Account:123, Account:456"`` -> two identifiers, in the order written."""
    return [ResourceIdentifier(*name.strip().split(":", 1)) for name in names.split(",")]


@dataclass
class World:
    locks: InMemoryLockStrategy | None = None
    sections: list[CriticalSection] = field(default_factory=list)
    finished: int = 0
    most_inside: int = 0
    error: LockAcquisitionError | None = None
    vanished: tuple[ResourceIdentifier, str] | None = None

    @property
    def strategy(self) -> InMemoryLockStrategy:
        assert self.locks is not None
        return self.locks


@pytest.fixture
def world() -> World:
    return World()


@given("an in-memory lock strategy")
def an_in_memory_lock_strategy(world: World) -> None:
    world.locks = InMemoryLockStrategy()


@given(parsers.parse('session "{session}" is inside a section over "{names}"'))
@when(parsers.parse('session "{session}" enters a section over "{names}" again'))
def session_enters(world: World, run: Run, session: str, names: str) -> None:
    section = CriticalSection(resources(names), world.strategy, timeout=1.0, session_id=session)
    run(section.acquire)
    world.sections.append(section)


@given(parsers.parse('a holder took "{name}" with a ttl of {ttl:g} seconds and vanished'))
def a_holder_vanished(world: World, run: Run, name: str, ttl: float) -> None:
    [resource] = resources(name)

    async def take() -> str:
        return await world.strategy.acquire(resource, timeout=1.0, ttl=ttl, session_id="gone")

    world.vanished = (resource, run(take))


@when(
    parsers.parse(
        '{n:d} sections over "{first}" and {m:d} over "{second}" run at once, each awaiting inside'
    )
)
def opposite_sections(world: World, run: Run, n: int, first: str, m: int, second: str) -> None:
    inside = 0

    async def section(names: str) -> None:
        nonlocal inside
        async with CriticalSection(resources(names), world.strategy, timeout=10.0):
            inside += 1
            world.most_inside = max(world.most_inside, inside)
            await asyncio.sleep(0.001)
            inside -= 1
        world.finished += 1

    async def all_at_once() -> None:
        jobs = [section(first) for _ in range(n)] + [section(second) for _ in range(m)]
        await asyncio.wait_for(asyncio.gather(*jobs), 30)

    run(all_at_once)


@when(parsers.parse('a section is entered over "{names}"'))
def a_section_is_entered(world: World, run: Run, names: str) -> None:
    section = CriticalSection(resources(names), world.strategy)
    run(section.acquire)
    world.sections.append(section)


@when(
    parsers.parse(
        'session "{session}" tries a section over "{names}" with a timeout of {timeout:g} seconds'
    )
)
def session_tries(world: World, run: Run, session: str, names: str, timeout: float) -> None:
    async def attempt() -> None:
        async with CriticalSection(
            resources(names), world.strategy, timeout=timeout, session_id=session
        ):
            raise AssertionError("the section must not be entered")

    with pytest.raises(LockAcquisitionError) as caught:
        run(attempt)
    world.error = caught.value


@when(
    parsers.parse(
        'session "{session}" enters a section over "{names}" waiting up to {timeout:g} seconds'
    )
)
def session_waits_for(world: World, run: Run, session: str, names: str, timeout: float) -> None:
    section = CriticalSection(resources(names), world.strategy, timeout=timeout, session_id=session)
    run(section.acquire)
    world.sections.append(section)


@when("the inner section exits")
@when("the outer section exits")
def the_last_section_exits(world: World, run: Run) -> None:
    run(world.sections.pop().release)


@then(parsers.parse("all {n:d} sections finished"))
def all_finished(world: World, n: int) -> None:
    assert world.finished == n


@then("no two sections were ever inside at once")
def never_two_inside(world: World) -> None:
    assert world.most_inside == 1


@then("no lock is held")
def no_lock_is_held(world: World, run: Run) -> None:
    assert run(world.strategy.get_active_locks) == []


@then(parsers.parse('it holds exactly "{names}"'))
def it_holds_exactly(world: World, run: Run, names: str) -> None:
    section = world.sections[-1]
    assert section.resources == resources(names)
    assert list(section.tokens) == resources(names)
    held = [lock.resource for lock in run(world.strategy.get_active_locks)]
    assert sorted(held) == resources(names)


@then(parsers.parse('"{name}" is held {holds:d} time by session "{session}"'))
@then(parsers.parse('"{name}" is held {holds:d} times by session "{session}"'))
def is_held(world: World, run: Run, name: str, holds: int, session: str) -> None:
    [lock] = [lock for lock in run(world.strategy.get_active_locks) if str(lock.resource) == name]
    assert (lock.holds, lock.session_id) == (holds, session)


@then(parsers.parse('the section is refused for "{name}" after {timeout:g} seconds'))
def refused_for(world: World, name: str, timeout: float) -> None:
    assert world.error is not None
    assert str(world.error.resource) == name
    assert world.error.timeout == timeout


@then(parsers.parse('the reason names session "{session}"'))
def the_reason_names(world: World, session: str) -> None:
    assert world.error is not None
    assert f"session {session!r}" in world.error.reason


@then(parsers.parse('only "{name}" is held'))
def only_is_held(world: World, run: Run, name: str) -> None:
    assert [str(lock.resource) for lock in run(world.strategy.get_active_locks)] == [name]


@then("the vanished holder can no longer release it")
def the_vanished_holder_cannot_release(world: World, run: Run) -> None:
    assert world.vanished is not None
    resource, token = world.vanished

    async def release() -> None:
        await world.strategy.release(resource, token)

    with pytest.raises(LockReleaseError):
        run(release)

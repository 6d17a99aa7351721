"""Scenarios: features/core/critical_section.feature (CriticalSection over InMemoryLockStrategy).

The words of the feature: a clerk is a session (its name is the ``session_id``), "shelf "A1""
the resource ``Shelf:A1`` and "shipment "s-123"" ``Shipment:s-123``; "must unlock twice" is a
lock held twice by the same session (re-entered); "for at most 0.2 seconds" a ttl.
"""

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


KINDS = {"shelf": "Shelf", "shelves": "Shelf", "shipment": "Shipment"}
TIMES = {"once": 1, "twice": 2}


def resources(kind: str, names: str) -> list[ResourceIdentifier]:
    """``("shelves", "B2, A1")`` -> ``[Shelf:B2, Shelf:A1]``, in the order written."""
    return [ResourceIdentifier(KINDS[kind], name.strip()) for name in names.split(",")]


@dataclass
class World:
    locks: InMemoryLockStrategy | None = None
    sections: list[CriticalSection] = field(default_factory=list)
    finished: int = 0
    most_inside: int = 0
    error: LockAcquisitionError | None = None
    refused: str | None = None
    """The clerk whose attempt raised ``error``."""
    vanished: tuple[ResourceIdentifier, str] | None = None

    @property
    def strategy(self) -> InMemoryLockStrategy:
        assert self.locks is not None
        return self.locks


@pytest.fixture
def world() -> World:
    return World()


@given("locks kept in memory")
def an_in_memory_lock_strategy(world: World) -> None:
    world.locks = InMemoryLockStrategy()


@given(parsers.parse('clerk "{session}" has locked {kind} "{names}"'))
@when(parsers.parse('clerk "{session}" locks {kind} "{names}" again'))
def session_enters(world: World, run: Run, session: str, kind: str, names: str) -> None:
    section = CriticalSection(
        resources(kind, names), world.strategy, timeout=1.0, session_id=session
    )
    run(section.acquire)
    world.sections.append(section)


@given(parsers.parse('a clerk locked {kind} "{name}" for at most {ttl:g} seconds and vanished'))
def a_holder_vanished(world: World, run: Run, kind: str, name: str, ttl: float) -> None:
    [resource] = resources(kind, name)

    async def take() -> str:
        return await world.strategy.acquire(resource, timeout=1.0, ttl=ttl, session_id="gone")

    world.vanished = (resource, run(take))


@when(
    parsers.parse(
        '{n:d} clerks lock shelves "{first}" and {m:d} lock shelves "{second}", all at once, '
        "each working a moment inside"
    )
)
def opposite_sections(world: World, run: Run, n: int, first: str, m: int, second: str) -> None:
    inside = 0

    async def section(names: str) -> None:
        nonlocal inside
        async with CriticalSection(resources("shelves", names), world.strategy, timeout=10.0):
            inside += 1
            world.most_inside = max(world.most_inside, inside)
            await asyncio.sleep(0.001)
            inside -= 1
        world.finished += 1

    async def all_at_once() -> None:
        jobs = [section(first) for _ in range(n)] + [section(second) for _ in range(m)]
        await asyncio.wait_for(asyncio.gather(*jobs), 30)

    run(all_at_once)


@when(parsers.parse('a clerk locks {kind} "{names}"'))
def a_section_is_entered(world: World, run: Run, kind: str, names: str) -> None:
    section = CriticalSection(resources(kind, names), world.strategy)
    run(section.acquire)
    world.sections.append(section)


@when(
    parsers.parse(
        'clerk "{session}" tries to lock {kind} "{names}", waiting at most {timeout:g} seconds'
    )
)
def session_tries(
    world: World, run: Run, session: str, kind: str, names: str, timeout: float
) -> None:
    async def attempt() -> None:
        async with CriticalSection(
            resources(kind, names), world.strategy, timeout=timeout, session_id=session
        ):
            raise AssertionError("the section must not be entered")

    with pytest.raises(LockAcquisitionError) as caught:
        run(attempt)
    world.error = caught.value
    world.refused = session


@when(parsers.parse('clerk "{session}" locks {kind} "{names}", waiting up to {timeout:g} seconds'))
def session_waits_for(
    world: World, run: Run, session: str, kind: str, names: str, timeout: float
) -> None:
    section = CriticalSection(
        resources(kind, names), world.strategy, timeout=timeout, session_id=session
    )
    run(section.acquire)
    world.sections.append(section)


@when(parsers.parse('clerk "{session}" unlocks it once'))
@when(parsers.parse('clerk "{session}" unlocks it again'))
def the_last_section_exits(world: World, run: Run, session: str) -> None:
    section = world.sections.pop()
    assert section.session_id == session
    run(section.release)


@then(parsers.parse("all {n:d} clerks finished"))
def all_finished(world: World, n: int) -> None:
    assert world.finished == n


@then("no two clerks were ever working on the shelves at the same time")
def never_two_inside(world: World) -> None:
    assert world.most_inside == 1


@then("nothing is locked")
def no_lock_is_held(world: World, run: Run) -> None:
    assert run(world.strategy.get_active_locks) == []


@then(parsers.parse('the clerk holds exactly the locks of {kind} "{names}", in that sequence'))
def it_holds_exactly(world: World, run: Run, kind: str, names: str) -> None:
    section = world.sections[-1]
    assert section.resources == resources(kind, names)
    assert list(section.tokens) == resources(kind, names)
    held = [lock.resource for lock in run(world.strategy.get_active_locks)]
    assert sorted(held) == resources(kind, names)


@then(parsers.parse('clerk "{session}" must unlock {kind} "{name}" {times} before it is free'))
def is_held(world: World, run: Run, session: str, kind: str, name: str, times: str) -> None:
    [resource] = resources(kind, name)
    [lock] = [lock for lock in run(world.strategy.get_active_locks) if lock.resource == resource]
    assert (lock.holds, lock.session_id) == (TIMES[times], session)


@then(parsers.parse('clerk "{session}" is refused {kind} "{name}" after {timeout:g} seconds'))
def refused_for(world: World, session: str, kind: str, name: str, timeout: float) -> None:
    assert world.error is not None
    assert world.refused == session
    assert world.error.resource == resources(kind, name)[0]
    assert world.error.timeout == timeout


@then(parsers.parse('the refusal names clerk "{session}"'))
def the_reason_names(world: World, session: str) -> None:
    assert world.error is not None
    assert f"session {session!r}" in world.error.reason


@then(parsers.parse('only {kind} "{name}" is locked'))
def only_is_held(world: World, run: Run, kind: str, name: str) -> None:
    assert [lock.resource for lock in run(world.strategy.get_active_locks)] == resources(kind, name)


@then("the vanished clerk can no longer unlock it")
def the_vanished_holder_cannot_release(world: World, run: Run) -> None:
    assert world.vanished is not None
    resource, token = world.vanished

    async def release() -> None:
        await world.strategy.release(resource, token)

    with pytest.raises(LockReleaseError):
        run(release)

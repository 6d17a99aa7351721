"""Scenarios: features/core/transfer_funds.feature.

The real Mediator, LockingMiddleware, InMemoryLockStrategy and InMemoryUnitOfWork, over the
small bank of tests/locking/bank.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.primitives.exceptions import LockAcquisitionError
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.conftest import Run
from tests.locking.bank import Bank, PayInvoiceCommand, TransferFundsCommand

scenarios("core/transfer_funds.feature")


@dataclass
class World:
    bank: Bank = field(default_factory=lambda: Bank(InMemoryLockStrategy()))
    completed: int = 0
    expected: int = 0
    timeline: list[str] = field(default_factory=list)
    seen_holds: list[dict[str, int]] = field(default_factory=list)
    error: LockAcquisitionError | None = None


@pytest.fixture
def world() -> World:
    return World()


def transfer(source: str, target: str, amount: int) -> TransferFundsCommand:
    return TransferFundsCommand(from_account=source, to_account=target, amount=amount)


async def holds_now(bank: Bank) -> dict[str, int]:
    return {str(lock.resource): lock.holds for lock in await bank.locks.get_active_locks()}


@given("a bank whose mediator locks critical resources")
def a_bank(world: World) -> None:
    assert isinstance(world.bank.locks, InMemoryLockStrategy)


@given(parsers.parse('account "{name}" with {balance:d}'))
def an_account(world: World, run: Run, name: str, balance: int) -> None:
    run(world.bank.open_accounts, {name: balance})


@given(parsers.parse('"{name}" is locked by another command'))
def locked_elsewhere(world: World, run: Run, name: str) -> None:
    section = CriticalSection(
        [ResourceIdentifier(*name.split(":", 1))], world.bank.locks, session_id="another-command"
    )
    run(section.acquire)


@when(
    parsers.parse(
        '{n:d} transfers of {amount:d} from "{a:w}" to "{b:w}" and {m:d} from "{b2:w}" to "{a2:w}" '
        "run at once"
    )
)
def opposite_transfers(
    world: World, run: Run, n: int, amount: int, a: str, b: str, m: int, b2: str, a2: str
) -> None:
    commands = [transfer(a, b, amount) for _ in range(n)] + [
        transfer(b2, a2, amount) for _ in range(m)
    ]
    world.expected = len(commands)

    async def all_at_once() -> None:
        responses = await asyncio.wait_for(
            asyncio.gather(*(world.bank.mediator.send(c) for c in commands)), 30
        )
        world.completed = sum(1 for response in responses if response.success)

    run(all_at_once)


@when(
    parsers.parse(
        '"{payer:w}" pays an invoice of {amount:d} to "{merchant:w}" through a nested transfer'
    )
)
def pays_an_invoice(world: World, run: Run, payer: str, amount: int, merchant: str) -> None:
    async def look(_: TransferFundsCommand) -> None:
        world.seen_holds.append(await holds_now(world.bank))

    world.bank.inside_transfer = look
    command = PayInvoiceCommand(payer=payer, merchant=merchant, amount=amount)

    async def pay() -> None:
        await asyncio.wait_for(world.bank.mediator.send(command), 5)

    run(pay)


@when(
    parsers.parse('"{a:w}" transfers {x:d} to "{b:w}" while "{b2:w}" transfers {y:d} to "{a2:w}"')
)
def two_unrelated_transfers(
    world: World, run: Run, a: str, x: int, b: str, b2: str, y: int, a2: str
) -> None:
    async def entered(command: TransferFundsCommand) -> None:
        world.timeline.append(f"handled {command.from_account}")

    async def committing() -> None:
        world.timeline.append("committed")

    world.bank.inside_transfer = entered
    world.bank.while_committing = committing
    world.bank.commit_delay = 0.02  # a slow commit: the window a lost update would need

    async def both() -> None:
        sends = (
            world.bank.mediator.send(transfer(a, b, x)),
            world.bank.mediator.send(transfer(b2, a2, y)),
        )
        await asyncio.wait_for(asyncio.gather(*sends), 5)

    run(both)


@when(parsers.parse('"{a:w}" transfers {x:d} to "{b:w}"'))
def one_transfer(world: World, run: Run, a: str, x: int, b: str) -> None:
    async def look() -> None:
        world.seen_holds.append(await holds_now(world.bank))

    world.bank.while_committing = look
    run(world.bank.mediator.send, transfer(a, b, x))


@when(parsers.parse('"{a:w}" transfers {x:d} to "{b:w}" waiting up to {timeout:g} seconds'))
def transfer_with_timeout(world: World, run: Run, a: str, x: int, b: str, timeout: float) -> None:
    impatient = Bank(world.bank.locks, lock_timeout=timeout, store=world.bank.store)
    world.bank = impatient
    with pytest.raises(LockAcquisitionError) as caught:
        run(impatient.mediator.send, transfer(a, b, x))
    world.error = caught.value


@then("every transfer completed")
def every_transfer_completed(world: World) -> None:
    assert world.completed == world.expected > 0


@then(parsers.parse('"{name}" has {balance:d}'))
def has_balance(world: World, name: str, balance: int) -> None:
    assert world.bank.balances()[name] == balance


@then("no lock is held")
def no_lock_is_held(world: World, run: Run) -> None:
    assert run(world.bank.locks.get_active_locks) == []


@then(parsers.parse('only "{name}" is held'))
def only_is_held(world: World, run: Run, name: str) -> None:
    assert list(run(holds_now, world.bank)) == [name]


@then(parsers.parse('the nested transfer found "{name}" held {holds:d} times'))
def nested_found(world: World, name: str, holds: int) -> None:
    [seen] = world.seen_holds
    assert seen[name] == holds


@then("the second transfer started only after the first had committed")
def second_after_first(world: World) -> None:
    assert world.timeline == ["handled alice", "committed", "handled bob", "committed"]


@then("both accounts were locked while the transfer committed")
def locked_while_committing(world: World) -> None:
    assert world.seen_holds == [{"Account:alice": 1, "Account:bob": 1}]


@then(parsers.parse('the transfer is refused for "{name}"'))
def refused_for(world: World, name: str) -> None:
    assert world.error is not None
    assert str(world.error.resource) == name
    assert "another-command" in world.error.reason


@then("the transfer handler never ran")
def handler_never_ran(world: World) -> None:
    assert world.bank.handled == []

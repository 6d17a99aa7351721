"""`LockingMiddleware` with the real `Mediator`: locks live as long as the root's transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cqrs_ddd_core.adapters.memory.locking import InMemoryLockStrategy
from cqrs_ddd_core.cqrs.concurrency import CriticalSection
from cqrs_ddd_core.cqrs.handler import QueryHandler
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.response import QueryResponse
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry, Next
from cqrs_ddd_core.ports.locking import LockInfo
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError, LockAcquisitionError
from cqrs_ddd_core.primitives.locking import ResourceIdentifier
from tests.locking.bank import Bank, PayInvoiceCommand, TransferFundsCommand

ALICE = ResourceIdentifier("Account", "alice")
BOB = ResourceIdentifier("Account", "bob")


def held(locks: list[LockInfo]) -> dict[ResourceIdentifier, int]:
    return {lock.resource: lock.holds for lock in locks}


@pytest.fixture
async def bank() -> Bank:
    bank = Bank(InMemoryLockStrategy())
    await bank.open_accounts({"alice": 100, "bob": 100, "carol": 100})
    return bank


async def test_the_locks_are_held_while_the_handler_runs_and_released_after_commit(
    bank: Bank,
) -> None:
    seen: list[dict[ResourceIdentifier, int]] = []

    async def look(_: TransferFundsCommand) -> None:
        seen.append(held(await bank.locks.get_active_locks()))

    bank.inside_transfer = look
    await bank.mediator.send(
        TransferFundsCommand(from_account="alice", to_account="bob", amount=30)
    )

    assert seen == [{ALICE: 1, BOB: 1}]
    assert await bank.locks.get_active_locks() == []
    assert bank.balances() == {"alice": 70, "bob": 130, "carol": 100}


async def test_the_locks_are_still_held_during_the_roots_commit(bank: Bank) -> None:
    seen: list[dict[ResourceIdentifier, int]] = []

    async def look() -> None:
        seen.append(held(await bank.locks.get_active_locks()))

    bank.while_committing = look
    await bank.mediator.send(
        TransferFundsCommand(from_account="alice", to_account="bob", amount=30)
    )

    assert seen == [{ALICE: 1, BOB: 1}]
    assert await bank.locks.get_active_locks() == []


async def test_the_locks_are_released_after_a_rollback(bank: Bank) -> None:
    with pytest.raises(Exception, match="cannot pay 500"):
        await bank.mediator.send(
            TransferFundsCommand(from_account="alice", to_account="bob", amount=500)
        )

    assert await bank.locks.get_active_locks() == []
    assert bank.balances() == {"alice": 100, "bob": 100, "carol": 100}
    assert bank.commits == 0


async def test_a_command_that_cannot_get_its_lock_never_runs_its_handler(bank: Bank) -> None:
    bank = Bank(bank.locks, lock_timeout=0.05, store=bank.store)
    section = CriticalSection([BOB], bank.locks, session_id="someone-else")
    async with section:
        with pytest.raises(LockAcquisitionError) as caught:
            await bank.mediator.send(
                TransferFundsCommand(from_account="alice", to_account="bob", amount=30)
            )

        assert caught.value.resource == BOB
        assert caught.value.timeout == 0.05
        assert "'someone-else'" in caught.value.reason
        assert bank.handled == []
        assert held(await bank.locks.get_active_locks()) == {BOB: 1}  # alice was let go
    assert bank.balances() == {"alice": 100, "bob": 100, "carol": 100}


async def test_a_handlers_own_error_is_not_retried(bank: Bank) -> None:
    with pytest.raises(Exception, match="cannot pay"):
        await bank.mediator.send(
            TransferFundsCommand(from_account="alice", to_account="bob", amount=500)
        )

    assert len(bank.handled) == 1


async def test_a_nested_command_re_enters_its_parents_lock(bank: Bank) -> None:
    seen: list[dict[ResourceIdentifier, int]] = []

    async def look(_: TransferFundsCommand) -> None:
        seen.append(held(await bank.locks.get_active_locks()))

    bank.inside_transfer = look
    await asyncio.wait_for(
        bank.mediator.send(PayInvoiceCommand(payer="alice", merchant="bob", amount=40)), 5
    )

    assert seen == [{ALICE: 2, BOB: 1}]  # alice entered twice: by the parent, then nested
    assert await bank.locks.get_active_locks() == []
    assert bank.balances() == {"alice": 60, "bob": 140, "carol": 100}


async def test_unrelated_commands_wait_for_each_others_locks(bank: Bank) -> None:
    timeline: list[str] = []
    bank.commit_delay = 0.02

    async def enter(command: TransferFundsCommand) -> None:
        timeline.append(f"{command.from_account} handled")

    async def committing() -> None:
        timeline.append("committing")

    bank.inside_transfer = enter
    bank.while_committing = committing
    await asyncio.wait_for(
        asyncio.gather(
            bank.mediator.send(
                TransferFundsCommand(from_account="alice", to_account="bob", amount=10)
            ),
            bank.mediator.send(
                TransferFundsCommand(from_account="bob", to_account="alice", amount=20)
            ),
        ),
        5,
    )

    # The second transfer's handler starts only after the first one has committed.
    assert timeline == ["alice handled", "committing", "bob handled", "committing"]
    assert bank.balances() == {"alice": 110, "bob": 90, "carol": 100}


async def test_concurrent_transfers_through_the_mediator_lose_nothing(bank: Bank) -> None:
    bank.commit_delay = 0.001
    names = ["alice", "bob", "carol"]
    transfers = [
        TransferFundsCommand(from_account=names[i % 3], to_account=names[(i + 1) % 3], amount=1)
        for i in range(60)
    ]

    await asyncio.wait_for(asyncio.gather(*(bank.mediator.send(t) for t in transfers)), 30)

    assert bank.balances() == {"alice": 100, "bob": 100, "carol": 100}
    assert bank.commits == 60


class ReleasingWhenTheHandlerReturns:
    """The tempting mistake: a lock released before the commit."""

    def __init__(self, bank: Bank) -> None:
        self._bank = bank

    async def __call__(self, message: Any, next: Next) -> Any:
        async with CriticalSection(message.get_critical_resources(), self._bank.locks):
            return await next(message)


async def test_releasing_before_the_commit_lets_a_transfer_read_a_stale_balance() -> None:
    # The control experiment for the on_close release: same transfers, lock released early.
    middleware = MiddlewareRegistry()
    bank = Bank(InMemoryLockStrategy(), middleware=middleware, commit_delay=0.02)
    middleware.register(ReleasingWhenTheHandlerReturns(bank))
    await bank.open_accounts({"alice": 100, "bob": 100})

    outcomes = await asyncio.gather(
        bank.mediator.send(TransferFundsCommand(from_account="alice", to_account="bob", amount=10)),
        bank.mediator.send(TransferFundsCommand(from_account="bob", to_account="alice", amount=20)),
        return_exceptions=True,
    )

    assert any(isinstance(outcome, ConcurrencyError) for outcome in outcomes)


class AccountBalanceQuery(Query[int]):
    account: str


class AccountBalanceHandler(QueryHandler[int]):
    def __init__(self, bank: Bank) -> None:
        self._bank = bank

    async def handle(self, query: AccountBalanceQuery) -> QueryResponse[int]:
        return QueryResponse(result=self._bank.balances()[query.account])


async def test_queries_pass_through_without_locks(bank: Bank) -> None:
    bank.registry.register_query_handler(AccountBalanceQuery, AccountBalanceHandler(bank))
    async with CriticalSection([ALICE], bank.locks, session_id="a-long-transfer"):
        response = await asyncio.wait_for(
            bank.mediator.send(AccountBalanceQuery(account="alice")), 1
        )

    assert response.result == 100

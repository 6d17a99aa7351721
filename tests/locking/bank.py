"""A tiny bank for the locking tests and the TransferFunds scenario: accounts and transfers.

``TransferFundsCommand`` names both accounts as critical resources, exactly as the spec's
example does; ``PayInvoiceCommand`` locks the payer's account and sends a transfer from it as
a nested command, so the nested command re-enters a lock its parent holds.
``BankUnitOfWork`` can take its time to commit (``commit_delay``) and call ``while_committing``
in the middle of the commit, which is how the tests look at the locks at that moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from cqrs_ddd_core.adapters.memory.unit_of_work import (
    InMemoryRepository,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.handler import CommandHandler
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.middleware.locking import LockingMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.ports.locking import ILockStrategy
from cqrs_ddd_core.primitives.exceptions import DomainError
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

# --- domain ---------------------------------------------------------------------------------


class InsufficientFundsError(DomainError):
    def __init__(self, account_id: str, balance: int, amount: int) -> None:
        super().__init__(f"Account {account_id!r} holds {balance}, cannot pay {amount}")


class Account(AggregateRoot):
    def __init__(self, id: str, balance: int) -> None:
        super().__init__(id)
        self.balance = balance

    def withdraw(self, amount: int) -> None:
        if amount > self.balance:
            raise InsufficientFundsError(self.id, self.balance, amount)
        self.balance -= amount

    def deposit(self, amount: int) -> None:
        self.balance += amount


# --- application ----------------------------------------------------------------------------


class TransferFundsCommand(Command[None]):
    """Transfer with pessimistic locking."""

    from_account: str
    to_account: str
    amount: int

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        """Lock both accounts."""
        return [
            ResourceIdentifier("Account", self.from_account),
            ResourceIdentifier("Account", self.to_account),
        ]


class PayInvoiceCommand(Command[None]):
    """Locks the payer's account, then pays through a nested `TransferFundsCommand`."""

    payer: str
    merchant: str
    amount: int

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        return [ResourceIdentifier("Account", self.payer)]


class TransferFundsHandler(CommandHandler[None]):
    def __init__(self, bank: Bank) -> None:
        self._bank = bank

    async def handle(self, command: TransferFundsCommand) -> CommandResponse[None]:
        self._bank.handled.append(command.command_id)
        uow: BankUnitOfWork = get_current_uow()
        source = await uow.accounts.get(command.from_account)
        target = await uow.accounts.get(command.to_account)
        await asyncio.sleep(self._bank.think_time)  # where a concurrent transfer would interleave
        source.withdraw(command.amount)
        target.deposit(command.amount)
        await uow.accounts.save(source)
        await uow.accounts.save(target)
        if self._bank.inside_transfer is not None:
            await self._bank.inside_transfer(command)
        return CommandResponse(result=None)


class PayInvoiceHandler(CommandHandler[None]):
    def __init__(self, bank: Bank) -> None:
        self._bank = bank

    async def handle(self, command: PayInvoiceCommand) -> CommandResponse[None]:
        transfer = TransferFundsCommand(
            from_account=command.payer, to_account=command.merchant, amount=command.amount
        )
        await self._bank.mediator.send(transfer)
        return CommandResponse(result=None)


# --- infrastructure -------------------------------------------------------------------------


class BankUnitOfWork(InMemoryUnitOfWork):
    def __init__(self, bank: Bank) -> None:
        super().__init__(bank.store)
        self._bank = bank
        self.accounts = InMemoryRepository[Account](self, "accounts")

    async def _commit(self) -> None:
        if self._bank.while_committing is not None:
            await self._bank.while_committing()
        await asyncio.sleep(self._bank.commit_delay)  # a slow database, say
        await super()._commit()
        self._bank.commits += 1


@dataclass
class Bank:
    """The composition root of the bank: store, lock strategy, mediator with locking."""

    locks: ILockStrategy
    lock_timeout: float = 10.0
    store: InMemoryStore = field(default_factory=InMemoryStore)
    think_time: float = 0.001
    commit_delay: float = 0.0
    while_committing: Callable[[], Awaitable[None]] | None = None
    inside_transfer: Callable[[TransferFundsCommand], Awaitable[None]] | None = None
    handled: list[str] = field(default_factory=list)
    commits: int = 0
    middleware: MiddlewareRegistry | None = None
    """``None``: a `LockingMiddleware` over ``locks``, as a service would wire it."""

    def __post_init__(self) -> None:
        self.registry = registry = HandlerRegistry()
        registry.register_command_handler(TransferFundsCommand, TransferFundsHandler(self))
        registry.register_command_handler(PayInvoiceCommand, PayInvoiceHandler(self))
        if self.middleware is None:
            self.middleware = MiddlewareRegistry()
            self.middleware.register(LockingMiddleware(self.locks, timeout=self.lock_timeout))
        self.mediator = Mediator(
            registry=registry,
            uow_factory=lambda: BankUnitOfWork(self),
            middleware_registry=self.middleware,
        )

    async def open_accounts(self, balances: dict[str, int]) -> None:
        async with BankUnitOfWork(self) as uow:
            for account_id, balance in balances.items():
                await uow.accounts.add(Account(account_id, balance))
            await uow.commit()
        self.commits = 0

    def balances(self) -> dict[str, int]:
        """The committed balances."""
        return {
            key: record.value.balance
            for key, record in self.store.collections.get("accounts", {}).items()
        }

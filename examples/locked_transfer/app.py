"""Transfers between wallets, many at once, under pessimistic locks: the total is conserved.

Run it: ``uv run python -m examples.locked_transfer``. What happens:

1. Four wallets get 100 each. Then 30 transfers between random pairs are sent **at once**.
2. Each `TransferCommand` names the two wallets it touches (`get_critical_resources`), and
   `LockingMiddleware` locks both before the handler runs and releases them only after the
   transaction has ended - so no other transfer reads a balance this one has changed but not
   committed. The locks are taken in one global order, so opposite transfers (a->b and b->a)
   never deadlock. Transfers on other wallets (a->b and c->d) run side by side.
3. A transfer that would overdraw is refused (``success=False``) and changes nothing.

At the end the four balances still add up to 400, and no two transfers ever held one wallet
at the same time. The locks live in a table (`SqlAlchemyLockStrategy`), so replicas of the
service on one database would exclude each other the same way. On PostgreSQL transfers on
other wallets run side by side and the locks are what keeps a wallet's transfers apart; SQLite
runs one write transaction at a time anyway, and there the locks get a file of their own (a
lock is a short write of its own, and SQLite has one writer per file).
Install: ``cqrs-ddd-core[sqlalchemy]``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import async_sessionmaker

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.locking import SqlAlchemyLockStrategy
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.adapters.sqlalchemy.repository import SqlAlchemyRepository
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.middleware.locking import LockingMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.primitives.exceptions import DomainError
from cqrs_ddd_core.primitives.locking import ResourceIdentifier

MIGRATIONS = Path(__file__).with_name("migrations")
Say = Callable[[str], None]
WALLETS = ["w-a", "w-b", "w-c", "w-d"]
TRANSFERS = 30

# --- the domain -------------------------------------------------------------------------------


class InsufficientFundsError(DomainError):
    pass


class Wallet(AggregateRoot):
    def __init__(self, id: str, balance: int) -> None:
        super().__init__(id)
        self.balance = balance

    def withdraw(self, amount: int) -> None:
        if amount > self.balance:
            raise InsufficientFundsError(f"{self.id} holds {self.balance}, cannot pay {amount}")
        self.balance -= amount

    def deposit(self, amount: int) -> None:
        self.balance += amount


# --- storage ----------------------------------------------------------------------------------

metadata = MetaData()
wallets = Table(
    "wallets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("balance", Integer, nullable=False),
)


class WalletRepository(SqlAlchemyRepository[Wallet]):
    table = wallets

    def _to_row(self, aggregate: Wallet) -> dict[str, Any]:
        return {"balance": aggregate.balance}

    def _from_row(self, row: RowMapping) -> Wallet:
        return Wallet(row["id"], row["balance"])


class UnitOfWork(SqlAlchemyUnitOfWork):
    @property
    def wallets(self) -> WalletRepository:
        return WalletRepository(self.session)


def current_uow() -> UnitOfWork:
    uow = get_current_uow()
    assert isinstance(uow, UnitOfWork), "handlers run inside the mediator's unit of work"
    return uow


# --- the commands -----------------------------------------------------------------------------


def wallet(wallet_id: str) -> ResourceIdentifier:
    return ResourceIdentifier("Wallet", wallet_id)


class OpenWalletCommand(Command[str]):
    wallet_id: str
    balance: int


class TransferCommand(Command[str]):
    source: str
    target: str
    amount: int

    def get_critical_resources(self) -> list[ResourceIdentifier]:
        return [wallet(self.source), wallet(self.target)]


class OpenWalletHandler:
    async def handle(self, command: OpenWalletCommand) -> CommandResponse[str]:
        await current_uow().wallets.add(Wallet(command.wallet_id, command.balance))
        return CommandResponse(result=command.wallet_id)


@dataclass
class Watch:
    """Who is inside a transfer right now: proof that the locks exclude, and that they overlap."""

    held: set[str] = field(default_factory=set)
    inside: int = 0
    most_at_once: int = 0
    clashes: int = 0


class TransferHandler:
    def __init__(self, watch: Watch) -> None:
        self.watch = watch

    async def handle(self, command: TransferCommand) -> CommandResponse[str]:
        watch = self.watch
        mine = {command.source, command.target}
        watch.clashes += bool(watch.held & mine)  # another transfer holds one of our wallets
        watch.held |= mine
        watch.inside += 1
        watch.most_at_once = max(watch.most_at_once, watch.inside)
        try:
            uow = current_uow()
            source = await uow.wallets.get(command.source)
            target = await uow.wallets.get(command.target)
            await asyncio.sleep(0.02)  # read, wait, write: a lost update if not locked
            try:
                source.withdraw(command.amount)
            except InsufficientFundsError as refused:
                return CommandResponse(result=str(refused), success=False)
            target.deposit(command.amount)
            await uow.wallets.save(source)
            await uow.wallets.save(target)
            return CommandResponse(result=f"{command.amount} {command.source}->{command.target}")
        finally:
            watch.inside -= 1
            watch.held -= mine


# --- wiring and the run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    balances: dict[str, int]
    done: int
    refused: int
    most_at_once: int
    clashes: int


async def main(database_url: str, locks_url: str | None = None, say: Say = print) -> Outcome:
    """Run on ``database_url`` (SQLite or PostgreSQL); the locks at ``locks_url`` (default:
    the same database - give SQLite a file of its own)."""
    engine = create_engine(database_url)
    lock_engine = create_engine(locks_url) if locks_url is not None else engine
    try:
        await upgrade(engine, MIGRATIONS)
        if lock_engine is not engine:
            await upgrade(lock_engine)  # the core's tables: cqrs_locks is the one used there
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        watch = Watch()
        registry = HandlerRegistry()
        registry.register_command_handler(OpenWalletCommand, OpenWalletHandler())
        registry.register_command_handler(TransferCommand, TransferHandler(watch))
        middleware = MiddlewareRegistry()
        middleware.register(LockingMiddleware(SqlAlchemyLockStrategy(lock_engine), ttl=30))
        mediator = Mediator(registry, lambda: UnitOfWork(sessions), middleware_registry=middleware)

        for wallet_id in WALLETS:
            await mediator.send(OpenWalletCommand(wallet_id=wallet_id, balance=100))
        say(f"opened {len(WALLETS)} wallets with 100 each: 400 in all")

        chooser = random.Random(7)  # the same transfers on every run
        commands = [
            TransferCommand(source=pair[0], target=pair[1], amount=chooser.randint(1, 60))
            for pair in (chooser.sample(WALLETS, 2) for _ in range(TRANSFERS))
        ]
        say(f"sending {len(commands)} transfers at once")
        responses = await asyncio.gather(*(mediator.send(c) for c in commands))

        async with UnitOfWork(sessions) as uow:
            balances = {w: (await uow.wallets.get(w)).balance for w in WALLETS}
        outcome = Outcome(
            balances=balances,
            done=sum(r.success for r in responses),
            refused=sum(not r.success for r in responses),
            most_at_once=watch.most_at_once,
            clashes=watch.clashes,
        )
        say(f"{outcome.done} transfers done, {outcome.refused} refused (they would overdraw)")
        say(
            f"at most {outcome.most_at_once} transfers ran at once; "
            f"{outcome.clashes} ever held a wallet another one held"
        )
        say(f"balances {balances}: {sum(balances.values())} in all")
        return outcome
    finally:
        await engine.dispose()
        if lock_engine is not engine:
            await lock_engine.dispose()

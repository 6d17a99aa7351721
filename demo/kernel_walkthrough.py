"""The kernel walkthrough: the mediator, the unit of work, nested commands and correlation.

A tiny library domain (lending books) keeps the focus on the patterns; the same patterns run
the ordering and billing services.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from rich.tree import Tree

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
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.middleware.logging import LoggingMiddleware
from cqrs_ddd_core.middleware.registry import MiddlewareRegistry
from cqrs_ddd_core.primitives.exceptions import DomainError
from demo.narration import Narrator


class BookLent(DomainEvent):
    member_id: str


class LoanRecorded(DomainEvent):
    book_id: str


class Book(AggregateRoot):
    def __init__(self, id: str) -> None:
        super().__init__(id)
        self.lent_to: str | None = None

    def lend(self, member_id: str) -> None:
        if self.lent_to is not None:
            raise DomainError(f"book {self.id} is already lent to {self.lent_to}")
        self.lent_to = member_id
        self.add_event(BookLent(aggregate_id=self.id, member_id=member_id))


class Loan(AggregateRoot):
    def __init__(self, id: str, book_id: str, member_id: str) -> None:
        super().__init__(id)
        self.book_id = book_id
        self.member_id = member_id
        self.add_event(LoanRecorded(aggregate_id=id, book_id=book_id))


class LibraryUnitOfWork(InMemoryUnitOfWork):
    commits = 0

    def __init__(self, store: InMemoryStore) -> None:
        super().__init__(store)
        self.books: InMemoryRepository[Book] = InMemoryRepository(self, "books")
        self.loans: InMemoryRepository[Loan] = InMemoryRepository(self, "loans")

    async def _commit(self) -> None:
        await super()._commit()
        LibraryUnitOfWork.commits += 1


class LendBookCommand(Command[str]):
    book_id: str
    member_id: str


class RecordLoanCommand(Command[str]):
    book_id: str
    member_id: str
    fail: bool = False


@dataclass
class Trace:
    lines: list[tuple[int, str, str, str | None]] = field(default_factory=list)

    def add(self, depth: int, kind: str, ident: str, parent: str | None) -> None:
        self.lines.append((depth, kind, ident, parent))


class LendBookHandler(CommandHandler[str]):
    def __init__(self, mediator: Mediator, trace: Trace, fail_nested: bool = False) -> None:
        self._mediator = mediator
        self._trace = trace
        self._fail_nested = fail_nested

    async def handle(self, command: LendBookCommand) -> CommandResponse[str]:
        self._trace.add(0, "LendBookCommand", command.command_id, command.causation_id)
        uow: LibraryUnitOfWork = get_current_uow()
        book = await uow.books.get(command.book_id)
        book.lend(command.member_id)
        await uow.books.save(book)
        # The nested command joins this unit of work: book and loan commit together.
        await self._mediator.send(
            RecordLoanCommand(book_id=book.id, member_id=command.member_id, fail=self._fail_nested)
        )
        return CommandResponse(result=book.id, events=book.clear_events())


class RecordLoanHandler(CommandHandler[str]):
    def __init__(self, trace: Trace) -> None:
        self._trace = trace

    async def handle(self, command: RecordLoanCommand) -> CommandResponse[str]:
        self._trace.add(1, "RecordLoanCommand", command.command_id, command.causation_id)
        uow: LibraryUnitOfWork = get_current_uow()
        loan = Loan(f"loan-{command.book_id}", command.book_id, command.member_id)
        await uow.loans.add(loan)
        if command.fail:
            raise RuntimeError("the loan ledger is unavailable")
        return CommandResponse(result=loan.id, events=loan.clear_events())


async def walk(narrator: Narrator) -> None:
    store = InMemoryStore()
    trace = Trace()
    registry = HandlerRegistry()
    middleware = MiddlewareRegistry()
    middleware.register(LoggingMiddleware(logging.getLogger("demo.messages")), priority=0)
    mediator = Mediator(
        registry=registry,
        uow_factory=lambda: LibraryUnitOfWork(store),
        middleware_registry=middleware,
    )
    registry.register_command_handler(LendBookCommand, lambda: LendBookHandler(mediator, trace))
    registry.register_command_handler(RecordLoanCommand, lambda: RecordLoanHandler(trace))
    seen_events: list[DomainEvent] = []

    async def remember(event: DomainEvent) -> None:
        seen_events.append(event)

    registry.register_event_handler(BookLent, remember)
    registry.register_event_handler(LoanRecorded, remember)

    async with LibraryUnitOfWork(store) as uow:
        for book_id in ("dune", "emma"):
            await uow.books.add(Book(book_id))
        await uow.commit()
    LibraryUnitOfWork.commits = 0

    narrator.section(
        1,
        "The mediator and the unit of work",
        code="core/cqrs_ddd_core/cqrs/mediator.py",
        scenario="features/core/mediator.feature",
        story=(
            "mediator.send(LendBookCommand) opens one unit of work, runs the handler through "
            "the middleware, dispatches the events in-process and commits once."
        ),
    )
    response = await mediator.send(LendBookCommand(book_id="dune", member_id="ada"))
    narrator.evidence(
        "response",
        [
            ("result", str(response.result)),
            ("events", ", ".join(e.type_name() for e in response.events)),
            ("correlation_id", str(response.correlation_id)),
        ],
    )
    narrator.check(response.success and response.result == "dune", "the command succeeded")
    narrator.check(get_current_uow() is None, "no unit of work is left behind after the root")

    narrator.section(
        2,
        "A nested command commits once with its parent",
        code="core/cqrs_ddd_core/cqrs/mediator.py (_send_nested_command)",
        scenario="features/core/nested_commands.feature",
        story=(
            "LendBookCommand sends RecordLoanCommand from inside its handler. The nested "
            "command reuses the root's unit of work: the book and the loan are one commit."
        ),
    )
    narrator.check(LibraryUnitOfWork.commits == 1, "one commit for two commands")
    narrator.check(
        store.keys("loans") == ["loan-dune"], "the loan written by the nested command is there"
    )
    narrator.say("Now the nested command fails after writing its loan:")
    registry_fail = HandlerRegistry()
    failing = Mediator(registry=registry_fail, uow_factory=lambda: LibraryUnitOfWork(store))
    registry_fail.register_command_handler(
        LendBookCommand, lambda: LendBookHandler(failing, Trace(), fail_nested=True)
    )
    registry_fail.register_command_handler(RecordLoanCommand, lambda: RecordLoanHandler(Trace()))
    try:
        await failing.send(LendBookCommand(book_id="emma", member_id="bob"))
        narrator.check(False, "the failure reached the caller")
    except RuntimeError as error:
        narrator.say(f"the caller got: [yellow]{error}[/]")
        narrator.check(True, "the failure reached the caller")
    async with LibraryUnitOfWork(store) as uow:
        emma = await uow.books.get("emma")
    narrator.check(emma.lent_to is None, "the parent's change to the book was rolled back too")
    narrator.check("loan-emma" not in store.keys("loans"), "no loan was left half-written")

    narrator.section(
        3,
        "Correlation and causation",
        code="core/cqrs_ddd_core/primitives/context.py",
        scenario="features/core/nested_commands.feature (correlation scenario)",
        story=(
            "Every message carries the story's correlation_id and its direct parent's id as "
            "causation_id: the tree below is rebuilt from the ids alone."
        ),
    )
    root_id = trace.lines[0][2]
    nested_id = trace.lines[1][2]
    tree = Tree(f"LendBookCommand [dim]{root_id[:8]}[/]")
    branches = {root_id: tree, nested_id: tree.add(f"RecordLoanCommand [dim]{nested_id[:8]}[/]")}
    for event in seen_events:
        parent = branches.get(str(event.causation_id), tree)
        parent.add(f"{event.type_name()} [dim]{event.event_id[:8]}[/]")
    narrator.console.print(tree)
    narrator.check(trace.lines[1][3] == root_id, "the nested command was caused by its parent")
    narrator.check(
        {e.correlation_id for e in seen_events} == {response.correlation_id},
        "every event carries the root's correlation id",
    )


def run(narrator: Narrator) -> None:
    asyncio.run(walk(narrator))

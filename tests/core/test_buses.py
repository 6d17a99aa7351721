"""`ICommandBus` and `IQueryBus`: code that holds one bus sends what that bus carries.

The mediator is both; a caller typed against `IQueryBus` sends a query and gets its
`QueryResponse` back, one typed against `ICommandBus` sends a command and gets its
`CommandResponse`.
"""

from __future__ import annotations

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse, QueryResponse
from cqrs_ddd_core.ports.bus import ICommandBus, IQueryBus


class CountShelves(Query[int]):
    aisle: str


class CountShelvesHandler:
    async def handle(self, query: CountShelves) -> QueryResponse[int]:
        return QueryResponse(result=len(query.aisle))


class LabelShelf(Command[str]):
    shelf: str


class LabelShelfHandler:
    async def handle(self, command: LabelShelf) -> CommandResponse[str]:
        return CommandResponse(result=f"label:{command.shelf}")


def mediator() -> Mediator:
    registry = HandlerRegistry()
    registry.register_query_handler(CountShelves, CountShelvesHandler())
    registry.register_command_handler(LabelShelf, LabelShelfHandler())
    return Mediator(registry, InMemoryUnitOfWork)


async def test_a_query_bus_sends_a_query_and_answers_its_query_response() -> None:
    queries: IQueryBus = mediator()

    response = await queries.send(CountShelves(aisle="abc"))

    assert isinstance(response, QueryResponse)
    count: int = response.result
    assert count == 3


async def test_a_command_bus_sends_a_command_and_answers_its_command_response() -> None:
    commands: ICommandBus = mediator()

    response = await commands.send(LabelShelf(shelf="s-1"))

    assert isinstance(response, CommandResponse)
    label: str = response.result
    assert label == "label:s-1"

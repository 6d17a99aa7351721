"""Scenarios: features/core/message_registry.feature - only registered names are hydrated.

The words of the feature: a slip is a stored payload (a name and string fields), its kind the
name it is registered under (`SLIP_KINDS`), "read back" hydrating it, "read strictly"
`MessageRegistry.hydrate`, which raises for an unknown name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.handler import CommandHandler
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.message_registry import MessageRegistry
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.primitives.exceptions import MessageHydrationError, UnknownMessageTypeError
from tests.conftest import Run

scenarios("core/message_registry.feature")


class LabelShelfCommand(Command[str]):
    label: str


class FindShelvesQuery(Query[list[str]]):
    prefix: str
    limit: int = 10


class LabelShelfHandler(CommandHandler[str]):
    async def handle(self, command: LabelShelfCommand) -> CommandResponse[str]:
        return CommandResponse(result=command.label)


SLIP_KINDS = {
    "label a shelf": "LabelShelfCommand",
    "find shelves": "FindShelvesQuery",
    "drop all tables": "DropTablesCommand",  # never registered
}
"""The scenarios' kinds of slip -> the names on the wire."""


@dataclass
class Incoming:
    registry: MessageRegistry = field(default_factory=MessageRegistry)
    name: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def incoming() -> Incoming:
    return Incoming()


@given('the warehouse knows two kinds of slip: "label a shelf" and "find shelves"')
def registry_with_messages(incoming: Incoming) -> None:
    incoming.registry.register_command("LabelShelfCommand", LabelShelfCommand)
    incoming.registry.register_query("FindShelvesQuery", FindShelvesQuery)


@when(parsers.parse('a slip "{kind}" arrives with'))
def payload_arrives(incoming: Incoming, kind: str, datatable: list[list[str]]) -> None:
    """The payload as it would come off a queue: every value a string."""
    incoming.name = SLIP_KINDS[kind]
    incoming.payload = {field.strip(): value.strip() for field, value in datatable[1:]}


@when(parsers.parse('a slip "{kind}" arrives with nothing written on it'))
def empty_payload_arrives(incoming: Incoming, kind: str) -> None:
    incoming.name = SLIP_KINDS[kind]
    incoming.payload = {}


@then(parsers.parse('it reads as a request to label a shelf "{value}"'))
def hydrated_command(incoming: Incoming, value: str) -> None:
    command = incoming.registry.hydrate_command(incoming.name, incoming.payload)
    assert isinstance(command, LabelShelfCommand)
    assert command.label == value


@then(parsers.parse('carrying it out through the front desk answers "{value}"'))
def send_hydrated(incoming: Incoming, run: Run, value: str) -> None:
    handlers = HandlerRegistry()
    handlers.register_command_handler(LabelShelfCommand, LabelShelfHandler())
    mediator = Mediator(registry=handlers, uow_factory=InMemoryUnitOfWork)
    command = incoming.registry.hydrate_command(incoming.name, incoming.payload)
    assert command is not None
    assert run(mediator.send, command).result == value


@then(parsers.parse("it reads as a question for at most {limit:d} shelves"))
def hydrated_query(incoming: Incoming, limit: int) -> None:
    query = incoming.registry.hydrate_query(incoming.name, incoming.payload)
    assert isinstance(query, FindShelvesQuery)
    assert query.limit == limit


@then("read leniently, it gives nothing")
def hydrates_to_none(incoming: Incoming) -> None:
    assert incoming.registry.hydrate_command(incoming.name, incoming.payload) is None


@then(parsers.parse('read strictly, it is refused as an unknown kind "{kind}"'))
def strict_fails(incoming: Incoming, kind: str) -> None:
    with pytest.raises(UnknownMessageTypeError) as caught:
        incoming.registry.hydrate(incoming.name, incoming.payload)
    assert f"Unknown command or query type {SLIP_KINDS[kind]!r}" in str(caught.value)


@then(parsers.parse('reading it is refused, naming the fields "{fields}"'))
def fails_naming_fields(incoming: Incoming, fields: str) -> None:
    with pytest.raises(MessageHydrationError) as caught:
        incoming.registry.hydrate_query(incoming.name, incoming.payload)
    assert fields in str(caught.value)

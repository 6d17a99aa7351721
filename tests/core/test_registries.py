"""HandlerRegistry and MessageRegistry: what they accept, and errors that name the type."""

from __future__ import annotations

import pytest

from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.handler import CommandHandler
from cqrs_ddd_core.cqrs.message_registry import MessageRegistry
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.event_registry import EventTypeRegistry
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.primitives.exceptions import (
    HandlerAlreadyRegisteredError,
    HandlerNotFoundError,
    MessageHydrationError,
    UnknownMessageTypeError,
)


class RenameCommand(Command[str]):
    name: str


class FindQuery(Query[list[str]]):
    prefix: str
    limit: int = 10


class RenameHandler(CommandHandler[str]):
    created = 0

    def __init__(self) -> None:
        RenameHandler.created += 1

    async def handle(self, command: RenameCommand) -> CommandResponse[str]:
        return CommandResponse(result=command.name)


def test_an_instance_is_used_as_it_is() -> None:
    registry = HandlerRegistry()
    handler = RenameHandler()
    registry.register_command_handler(RenameCommand, handler)
    assert registry.get_command_handler(RenameCommand) is handler


def test_a_class_is_instantiated_for_each_message() -> None:
    registry = HandlerRegistry()
    registry.register_command_handler(RenameCommand, RenameHandler)
    first = registry.get_command_handler(RenameCommand)
    second = registry.get_command_handler(RenameCommand)
    assert isinstance(first, RenameHandler)
    assert first is not second


def test_a_factory_is_called_for_each_message() -> None:
    registry = HandlerRegistry()
    built: list[RenameHandler] = []

    def create_handler() -> RenameHandler:
        built.append(RenameHandler())
        return built[-1]

    registry.register_command_handler(RenameCommand, create_handler)
    assert registry.get_command_handler(RenameCommand) is built[0]
    assert registry.get_command_handler(RenameCommand) is built[1]


def test_registering_the_same_handler_twice_is_harmless() -> None:
    registry = HandlerRegistry()
    handler = RenameHandler()
    registry.register_command_handler(RenameCommand, handler)
    registry.register_command_handler(RenameCommand, handler)
    assert registry.get_command_handler(RenameCommand) is handler


def test_the_same_handler_class_in_another_form_replaces_how_it_is_built() -> None:
    registry = HandlerRegistry()
    registry.register_command_handler(RenameCommand, RenameHandler())

    def create_handler() -> RenameHandler:
        return RenameHandler()

    registry.register_command_handler(RenameCommand, create_handler)
    assert registry.get_command_handler(RenameCommand) is not registry.get_command_handler(
        RenameCommand
    )


def test_a_lambda_replaces_an_instance_like_an_annotated_factory_does() -> None:
    registry = HandlerRegistry()
    registry.register_command_handler(RenameCommand, RenameHandler())
    registry.register_command_handler(RenameCommand, lambda: RenameHandler())
    assert registry.get_command_handler(RenameCommand) is not registry.get_command_handler(
        RenameCommand
    )


class OtherRenameHandler(RenameHandler):
    pass


def test_an_instance_of_another_class_is_refused_naming_the_registered_handler() -> None:
    registry = HandlerRegistry()
    registry.register_command_handler(RenameCommand, RenameHandler())
    with pytest.raises(
        HandlerAlreadyRegisteredError,
        match=r"RenameCommand already has a handler \(an instance of RenameHandler\)",
    ):
        registry.register_command_handler(RenameCommand, OtherRenameHandler)


def test_a_factory_building_another_class_is_refused_when_it_builds() -> None:
    registry = HandlerRegistry()
    registry.register_command_handler(RenameCommand, RenameHandler())

    def create_handler() -> RenameHandler:  # the annotation is not what is checked
        return OtherRenameHandler()

    registry.register_command_handler(RenameCommand, create_handler)
    with pytest.raises(
        HandlerAlreadyRegisteredError,
        match=r"RenameHandler, which the factory .*create_handler replaced but built a "
        r"OtherRenameHandler",
    ):
        registry.get_command_handler(RenameCommand)


def test_a_missing_query_handler_names_the_query_type() -> None:
    with pytest.raises(HandlerNotFoundError, match="FindQuery"):
        HandlerRegistry().get_query_handler(FindQuery)


def test_an_event_type_can_have_many_handlers() -> None:
    class Renamed(DomainEvent):
        pass

    async def one(event: Renamed) -> None: ...

    async def two(event: Renamed) -> None: ...

    registry = HandlerRegistry()
    registry.register_event_handler(Renamed, one)
    registry.register_event_handler(Renamed, two)
    registry.register_event_handler(Renamed, one)  # once is enough
    assert registry.get_event_handlers(Renamed) == [one, two]


def test_message_registry_hydrates_typed_commands_and_queries() -> None:
    registry = MessageRegistry()
    registry.register_command("RenameCommand", RenameCommand)
    registry.register_query("FindQuery", FindQuery)

    command = registry.hydrate_command("RenameCommand", {"name": "new"})
    query = registry.hydrate_query("FindQuery", {"prefix": "a", "limit": "3"})

    assert isinstance(command, RenameCommand)
    assert command.name == "new"
    assert isinstance(query, FindQuery)
    assert query.limit == 3


def test_message_registry_keeps_ids_that_travel_with_the_payload() -> None:
    registry = MessageRegistry()
    registry.register_command("RenameCommand", RenameCommand)
    original = RenameCommand(name="x", correlation_id="story-7")

    copy = registry.hydrate_command("RenameCommand", original.model_dump())

    assert copy == original


def test_an_unknown_name_hydrates_to_none_or_raises_naming_it() -> None:
    registry = MessageRegistry()
    assert registry.hydrate_command("DropTablesCommand", {}) is None
    assert registry.hydrate_query("DropTablesCommand", {}) is None
    with pytest.raises(UnknownMessageTypeError, match="'DropTablesCommand'"):
        registry.hydrate("DropTablesCommand", {})


def test_a_bad_payload_raises_naming_the_fields() -> None:
    registry = MessageRegistry()
    registry.register_query("FindQuery", FindQuery)
    with pytest.raises(MessageHydrationError, match="prefix, limit") as caught:
        registry.hydrate_query("FindQuery", {"limit": "many"})
    assert caught.value.type_name == "FindQuery"
    assert [e["loc"] for e in caught.value.errors] == [["prefix"], ["limit"]]


def test_one_name_cannot_be_registered_to_two_classes() -> None:
    registry = MessageRegistry()
    registry.register_command("Rename", RenameCommand)
    with pytest.raises(ValueError, match="already registered to RenameCommand"):
        registry.register_command("Rename", FindQuery)  # type: ignore[arg-type]


def test_hydration_hooks_see_each_hydrated_message() -> None:
    registry = MessageRegistry()
    registry.register_command("RenameCommand", RenameCommand)
    seen: list[tuple[str, str]] = []
    registry.add_hook(lambda kind, name, payload: seen.append((kind, name)))
    registry.hydrate_command("RenameCommand", {"name": "n"})
    assert seen == [("command", "RenameCommand")]


# --- event type registry ------------------------------------------------------------------


class ParcelLost(DomainEvent):
    parcel_id: str


def test_an_event_round_trips_through_its_payload() -> None:
    registry = EventTypeRegistry()
    registry.register("ParcelLost", ParcelLost)
    event = ParcelLost(parcel_id="p-1", aggregate_id="p-1", correlation_id="c")

    payload = event.to_payload()
    copy = registry.hydrate(payload["event_type"], payload)

    assert payload["event_type"] == "ParcelLost"
    assert copy == event


def test_an_invalid_event_payload_raises_rather_than_vanishing() -> None:
    registry = EventTypeRegistry()
    registry.register("ParcelLost", ParcelLost)
    with pytest.raises(MessageHydrationError, match="parcel_id"):
        registry.hydrate("ParcelLost", {"event_type": "ParcelLost"})
    with pytest.raises(UnknownMessageTypeError, match="event type 'ParcelFound'"):
        registry.hydrate("ParcelFound", {})

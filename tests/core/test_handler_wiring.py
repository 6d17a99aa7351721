"""Handlers wired so that some would silently never run are refused, with the way out.

* The mediator takes its in-process event handlers from its `HandlerRegistry`, one place: an
  `EventDispatcher` that does not read that registry is refused when the mediator is built,
  and registering on a dispatcher that reads a registry is refused too.
* A consumer's ``handler_factory`` builds every handler of its registry from its class; one it
  cannot build (a function, a zero-argument factory) is an error, not used as it is - and so
  is a ``handler_factory`` with no registry to build from.
"""

from __future__ import annotations

from typing import Any

import pytest

from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.consumers.base import BaseEventConsumer
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.mediator import Mediator
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.primitives.exceptions import HandlerWiringError


class Shelved(DomainEvent):
    sku: str


class ShelveCommand(Command[str]):
    sku: str


class ShelveHandler:
    async def handle(self, command: ShelveCommand) -> CommandResponse[str]:
        return CommandResponse(result=command.sku, events=[Shelved(sku=command.sku)])


class Labeller:
    def __init__(self, printer: list[str] | None = None) -> None:
        self.printer = printer if printer is not None else []

    async def handle(self, event: Shelved) -> None:
        self.printer.append(event.sku)


def mediator_over(registry: HandlerRegistry, **options: Any) -> Mediator:
    return Mediator(registry, InMemoryUnitOfWork, **options)


# --- the mediator's event handlers: one place ---------------------------------------------


def test_a_mediator_refuses_a_dispatcher_that_does_not_read_its_registry() -> None:
    with pytest.raises(HandlerWiringError, match=r"registry\.register_event_handler"):
        mediator_over(HandlerRegistry(), event_dispatcher=EventDispatcher())


def test_a_mediator_refuses_a_dispatcher_built_on_another_registry() -> None:
    other: EventDispatcher[Any] = EventDispatcher(handler_registry=HandlerRegistry())
    with pytest.raises(HandlerWiringError, match=r"handler_registry=registry"):
        mediator_over(HandlerRegistry(), event_dispatcher=other)


def test_a_dispatcher_reading_a_registry_refuses_handlers_of_its_own() -> None:
    dispatcher: EventDispatcher[Shelved] = EventDispatcher(handler_registry=HandlerRegistry())
    with pytest.raises(
        HandlerWiringError, match=r"register Labeller there: .*register_event_handler\(Shelved"
    ):
        dispatcher.register(Shelved, Labeller())


async def test_a_dispatcher_on_the_mediators_registry_adds_retries_to_its_handlers() -> None:
    registry = HandlerRegistry()
    attempts: list[str] = []

    async def flaky_label(event: Shelved) -> None:
        attempts.append(event.sku)
        if len(attempts) == 1:
            raise ConnectionError("the label printer is warming up")

    registry.register_command_handler(ShelveCommand, ShelveHandler())
    registry.register_event_handler(Shelved, flaky_label)
    dispatcher: EventDispatcher[Any] = EventDispatcher(
        handler_registry=registry, max_retries=1, retry_delay=0.001
    )
    mediator = mediator_over(registry, event_dispatcher=dispatcher)

    response = await mediator.send(ShelveCommand(sku="s-1"))

    assert response.success
    assert attempts == ["s-1", "s-1"]


# --- a consumer's handler_factory ---------------------------------------------------------


def consumer_over(
    handler_registry: HandlerRegistry, dispatcher: EventDispatcher[Any] | None = None
) -> BaseEventConsumer:
    printer: list[str] = []
    return BaseEventConsumer(
        broker=InMemoryBroker(),
        topics=["Shelved"],
        dispatcher=dispatcher,
        handler_registry=handler_registry,
        handler_factory=lambda cls: cls(printer=printer),
    )


def test_a_handler_factory_refuses_a_function_it_cannot_build() -> None:
    async def label(event: Shelved) -> None: ...

    registry = HandlerRegistry()
    registry.register_event_handler(Shelved, label)
    with pytest.raises(HandlerWiringError, match=r"Shelved has the function .*label, which"):
        consumer_over(registry)


def test_a_handler_factory_refuses_a_zero_argument_factory() -> None:
    registry = HandlerRegistry()
    registry.register_event_handler(Shelved, lambda: Labeller())
    with pytest.raises(HandlerWiringError, match=r"the factory .*<lambda>.*handler_factory out"):
        consumer_over(registry)


def test_a_handler_factory_builds_a_registered_instance_anew_from_its_class() -> None:
    registered = Labeller()
    registry = HandlerRegistry()
    registry.register_event_handler(Shelved, registered)
    dispatcher: EventDispatcher[Any] = EventDispatcher()
    consumer_over(registry, dispatcher)

    (handler,) = dispatcher.handlers_for(Shelved)

    assert isinstance(handler, Labeller)
    assert handler is not registered, "built by handler_factory, not silently reused"


def test_a_consumer_refuses_a_registry_its_dispatcher_already_reads() -> None:
    registry = HandlerRegistry()
    registry.register_event_handler(Shelved, Labeller)
    dispatcher: EventDispatcher[Any] = EventDispatcher(handler_registry=registry)
    with pytest.raises(HandlerWiringError, match="register_event_handler"):
        consumer_over(registry, dispatcher)


def test_a_handler_factory_without_a_registry_to_build_from_is_refused() -> None:
    with pytest.raises(HandlerWiringError, match=r"handler_factory but no handler_registry"):
        BaseEventConsumer(
            broker=InMemoryBroker(),
            topics=["Shelved"],
            dispatcher=EventDispatcher(),
            handler_factory=lambda cls: cls(),
        )

"""EventDispatcher: many handlers, priority order, retry with backoff, observable hooks."""

from __future__ import annotations

from typing import Any

import pytest

from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.handler import EventHandler
from cqrs_ddd_core.cqrs.mediator import get_current_uow
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.primitives.context import get_causation_id
from tests.warehouse.domain import Putaway, ShipmentReceived
from tests.warehouse.receiving import ReceiveShipmentCommand, WarehouseUnitOfWork, build_warehouse


class ParcelSent(DomainEvent):
    parcel_id: str


class ExpressParcelSent(ParcelSent):
    pass


class Recorder(EventHandler[ParcelSent]):
    def __init__(self, name: str, calls: list[str]) -> None:
        self.name = name
        self.calls = calls

    async def handle(self, event: ParcelSent) -> None:
        self.calls.append(self.name)


async def test_every_handler_of_an_event_runs_in_priority_order() -> None:
    calls: list[str] = []
    dispatcher: EventDispatcher[ParcelSent] = EventDispatcher()
    dispatcher.register(ParcelSent, Recorder("late", calls), priority=10)
    dispatcher.register(ParcelSent, Recorder("first", calls), priority=-5)
    dispatcher.register(ParcelSent, Recorder("default-a", calls))
    dispatcher.register(ParcelSent, Recorder("default-b", calls))

    await dispatcher.dispatch(ParcelSent(parcel_id="p-1"))

    assert calls == ["first", "default-a", "default-b", "late"]


async def test_handlers_of_a_base_class_see_subclass_events() -> None:
    calls: list[str] = []
    dispatcher: EventDispatcher[DomainEvent] = EventDispatcher()
    dispatcher.register(ParcelSent, Recorder("any parcel", calls))
    dispatcher.register(ExpressParcelSent, Recorder("express only", calls))

    await dispatcher.dispatch(ExpressParcelSent(parcel_id="p-1"))
    await dispatcher.dispatch(ParcelSent(parcel_id="p-2"))

    # One rule for the order: priority, then registration order.
    assert calls == ["any parcel", "express only", "any parcel"]


async def test_plain_async_functions_are_handlers_too() -> None:
    seen: list[str] = []

    async def on_sent(event: ParcelSent) -> None:
        seen.append(event.parcel_id)

    dispatcher: EventDispatcher[ParcelSent] = EventDispatcher()
    dispatcher.register(ParcelSent, on_sent)
    await dispatcher.dispatch(ParcelSent(parcel_id="p-7"))

    assert seen == ["p-7"]


async def test_callable_objects_and_plain_functions_are_handlers_too() -> None:
    class OnSent:
        def __init__(self) -> None:
            self.seen: list[str] = []

        async def __call__(self, event: ParcelSent) -> None:
            self.seen.append(event.parcel_id)

    seen_by_function: list[str] = []

    def on_sent(event: ParcelSent) -> None:
        seen_by_function.append(event.parcel_id)

    callable_object = OnSent()
    dispatcher: EventDispatcher[ParcelSent] = EventDispatcher()
    dispatcher.register(ParcelSent, callable_object)
    dispatcher.register(ParcelSent, on_sent)
    await dispatcher.dispatch(ParcelSent(parcel_id="p-8"))

    assert callable_object.seen == ["p-8"]
    assert seen_by_function == ["p-8"]


async def test_a_failing_handler_is_retried_with_exponential_backoff() -> None:
    attempts: list[int] = []
    delays: list[float] = []
    dispatcher: EventDispatcher[ParcelSent] = EventDispatcher(
        max_retries=3, retry_delay=0.001, max_retry_delay=0.003
    )

    async def flaky(event: ParcelSent) -> None:
        attempts.append(len(attempts) + 1)
        if len(attempts) < 4:
            raise ConnectionError("carrier unavailable")

    dispatcher.register(ParcelSent, flaky)
    dispatcher.add_hooks(on_error=lambda e, h, exc, attempt: delays.append(attempt))

    await dispatcher.dispatch(ParcelSent(parcel_id="p-1"))

    assert attempts == [1, 2, 3, 4]
    assert delays == [1, 2, 3]


async def test_a_retried_handler_does_not_find_the_writes_of_its_failed_attempt() -> None:
    """Inside a command, each attempt runs in a savepoint: a failure undoes its own writes."""
    warehouse = build_warehouse()
    warehouse.dispatcher.max_retries = 1
    warehouse.dispatcher.retry_delay = 0.001
    attempts: list[int] = []

    async def put_away_then_fail_once(event: ShipmentReceived) -> None:
        attempts.append(len(attempts) + 1)
        uow: WarehouseUnitOfWork = get_current_uow()
        await uow.putaways.add(Putaway(f"extra-{len(attempts)}", "returns-shelf", 1))
        if len(attempts) == 1:
            raise ConnectionError("label printer unavailable")

    warehouse.registry.register_event_handler(ShipmentReceived, put_away_then_fail_once)
    await warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="s-1", supplier="acme"))

    assert attempts == [1, 2]
    assert warehouse.committed("putaways") == ["extra-2", "s-1"]


def test_the_backoff_doubles_and_is_capped() -> None:
    dispatcher: EventDispatcher[ParcelSent] = EventDispatcher(retry_delay=0.1, max_retry_delay=0.3)
    assert [dispatcher.backoff(attempt) for attempt in (1, 2, 3, 4)] == [0.1, 0.2, 0.3, 0.3]


async def test_after_its_retries_a_handler_error_surfaces() -> None:
    calls: list[str] = []
    dispatcher: EventDispatcher[ParcelSent] = EventDispatcher(max_retries=1, retry_delay=0.001)

    async def broken(event: ParcelSent) -> None:
        calls.append("broken")
        raise ValueError("label printer on fire")

    dispatcher.register(ParcelSent, broken)
    dispatcher.register(ParcelSent, Recorder("after", calls), priority=1)

    with pytest.raises(ValueError, match="label printer on fire"):
        await dispatcher.dispatch(ParcelSent(parcel_id="p-1"))
    assert calls == ["broken", "broken"]  # the handler after it never ran


async def test_hooks_observe_every_call_and_cannot_break_the_dispatch() -> None:
    log: list[tuple[str, str]] = []
    dispatcher: EventDispatcher[ParcelSent] = EventDispatcher()
    dispatcher.register(ParcelSent, Recorder("only", []))

    def explode(event: Any, handler: Any) -> None:
        raise RuntimeError("a broken metrics hook")

    dispatcher.add_hooks(
        before=lambda e, h: log.append(("before", e.parcel_id)),
        after=lambda e, h: log.append(("after", e.parcel_id)),
    )
    dispatcher.add_hooks(before=explode)

    await dispatcher.dispatch(ParcelSent(parcel_id="p-1"))

    assert log == [("before", "p-1"), ("after", "p-1")]


async def test_whatever_a_handler_creates_is_caused_by_the_event() -> None:
    causes: list[str | None] = []

    async def look(event: ParcelSent) -> None:
        causes.append(get_causation_id())

    dispatcher: EventDispatcher[ParcelSent] = EventDispatcher()
    dispatcher.register(ParcelSent, look)
    event = ParcelSent(parcel_id="p-1")
    await dispatcher.dispatch(event)

    assert causes == [event.event_id]
    assert get_causation_id() is None


async def test_a_dispatcher_built_on_a_handler_registry_calls_its_event_handlers() -> None:
    calls: list[str] = []
    registry = HandlerRegistry()
    registry.register_event_handler(ParcelSent, Recorder("registered", calls))
    dispatcher: EventDispatcher[ParcelSent] = EventDispatcher(handler_registry=registry)

    await dispatcher.dispatch(ParcelSent(parcel_id="p-1"))

    assert calls == ["registered"]

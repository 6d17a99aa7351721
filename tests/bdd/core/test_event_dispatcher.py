"""Scenarios: features/core/event_dispatcher.feature - the warehouse's "shipment received" event.

Its handlers are recorders; one is flaky (the label printer is unavailable a few times).
The words of the feature: a listener is an event handler, "told again" a retry, the
supervisor the `on_error` hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from tests.conftest import Run
from tests.warehouse.domain import ShipmentReceived

scenarios("core/event_dispatcher.feature")


@dataclass
class Desk:
    dispatcher: EventDispatcher[ShipmentReceived] = field(default_factory=EventDispatcher)
    calls: list[str] = field(default_factory=list)
    attempts: int = 0
    error_attempts: list[int] = field(default_factory=list)
    error: BaseException | None = None


def received() -> ShipmentReceived:
    return ShipmentReceived(shipment_id="s-1", supplier="acme", quantity=10)


@pytest.fixture
def desk() -> Desk:
    return Desk()


def _recorder(desk: Desk, name: str):  # type: ignore[no-untyped-def]
    async def handler(event: ShipmentReceived) -> None:
        desk.calls.append(name)

    return handler


@given(
    parsers.parse(
        'the news of an arrival goes to "{a}" at priority {pa:d}, "{b}" at priority {pb:d} '
        'and "{c}" at priority {pc:d}'
    )
)
def three_handlers(desk: Desk, a: str, pa: int, b: str, pb: int, c: str, pc: int) -> None:
    for name, priority in ((a, pa), (b, pb), (c, pc)):
        desk.dispatcher.register(ShipmentReceived, _recorder(desk, name), priority=priority)


@given(parsers.parse("a listener that stumbles is told again up to {retries:d} times"))
def retrying_dispatcher(desk: Desk, retries: int) -> None:
    desk.dispatcher = EventDispatcher(max_retries=retries, retry_delay=0.001)
    desk.dispatcher.add_hooks(
        on_error=lambda event, handler, error, attempt: desk.error_attempts.append(attempt)
    )


@given(parsers.parse("a label printer that jams {failures:d} times before it prints"))
def flaky_handler(desk: Desk, failures: int) -> None:
    async def flaky(event: ShipmentReceived) -> None:
        desk.attempts += 1
        if desk.attempts <= failures:
            raise ConnectionError("label printer unavailable")

    desk.dispatcher.register(ShipmentReceived, flaky)


@when("a shipment arrives and the news is passed on")
def dispatch(desk: Desk, run: Run) -> None:
    run(desk.dispatcher.dispatch, received())


@when("a shipment arrives and the news is passed on, expecting a complaint")
def dispatch_failing(desk: Desk, run: Run) -> None:
    with pytest.raises(ConnectionError) as caught:
        run(
            desk.dispatcher.dispatch,
            received(),
        )
    desk.error = caught.value


@then(parsers.parse('they heard it one after the other: "{order}"'))
def ran_in_order(desk: Desk, order: str) -> None:
    assert desk.calls == [name.strip() for name in order.split(",")]


@then(parsers.parse("the label printer was told {count:d} times"))
def attempted(desk: Desk, count: int) -> None:
    assert desk.attempts == count


@then(parsers.parse("the supervisor heard of the jams at tries {first:d} and {second:d}"))
def error_hook_saw(desk: Desk, first: int, second: int) -> None:
    assert desk.error_attempts == [first, second]


@then(parsers.parse('the complaint "{text}" came after {count:d} tries'))
def surfaced(desk: Desk, text: str, count: int) -> None:
    assert desk.error is not None
    assert text in str(desk.error)
    assert desk.attempts == count

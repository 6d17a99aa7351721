"""docs/reference/event-dispatcher.md: two handlers, one event dispatched, as written.

The handlers (``OrderCreatedHandler``, ``OrderConfirmedHandler``) and the events are
fill-ins from `domain`; each handler awaits before recording, so a dispatcher that did not
await its handlers would leave the journal empty.
"""

from __future__ import annotations

from tests.spec_examples.spec_domain import (
    OrderConfirmed,
    OrderConfirmedHandler,
    OrderCreated,
    OrderCreatedHandler,
    fresh_journal,
)


async def test_dispatch_runs_the_handlers_of_the_event_type_and_awaits_them() -> None:
    journal = fresh_journal()

    # --- spec: EventDispatcher / Usage ---
    from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
    from cqrs_ddd_core.domain.events import DomainEvent  # fill-in import

    # Create dispatcher
    dispatcher = EventDispatcher[DomainEvent]()

    # Register handlers
    dispatcher.register(OrderCreated, OrderCreatedHandler())
    dispatcher.register(OrderConfirmed, OrderConfirmedHandler())

    # Dispatch event
    event = OrderCreated(aggregate_id="order-123", customer_id="cust-456")
    await dispatcher.dispatch(event)

    # All handlers execute asynchronously
    # --- end of the example ---

    assert journal.events == [("OrderCreatedHandler", event)], "only OrderCreated's handler"

    confirmed = OrderConfirmed(aggregate_id="order-123")
    await dispatcher.dispatch(confirmed)
    assert journal.events[-1] == ("OrderConfirmedHandler", confirmed)


async def test_every_handler_registered_for_an_event_runs() -> None:
    from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
    from cqrs_ddd_core.domain.events import DomainEvent

    journal = fresh_journal()
    dispatcher = EventDispatcher[DomainEvent]()
    dispatcher.register(OrderCreated, OrderCreatedHandler())
    dispatcher.register(OrderCreated, OrderConfirmedHandler())  # any handler, same event type
    event = OrderCreated(aggregate_id="order-123", customer_id="cust-456")

    await dispatcher.dispatch(event)

    assert journal.events == [("OrderCreatedHandler", event), ("OrderConfirmedHandler", event)]

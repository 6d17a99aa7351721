"""docs/reference/mediator.md: Basic Setup, Nested Commands and With Middleware, as written.

Each test body is the spec's example verbatim; only what the example leaves undefined
(handlers, the domain, a unit of work exposing ``orders``) comes from `domain`, or is marked
"fill-in" here. The assertions are what the example's comments claim.
"""

from __future__ import annotations

import logging

import pytest

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.cqrs.handler import CommandHandler
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.ports.unit_of_work import UnitOfWorkState
from tests.spec_examples.spec_domain import (
    CreateOrderCommand,
    CreateOrderHandler,
    GenerateInvoiceCommand,
    GenerateInvoiceHandler,
    OrderCreated,
    OrderShipped,
    OrderUnitOfWork,
    ShipOrderCommand,
    fresh_journal,
    seed_order,
)


async def test_basic_setup_returns_the_new_order_id_and_its_domain_events(
    capsys: pytest.CaptureFixture[str],
) -> None:
    journal = fresh_journal()

    # --- spec: Mediator / Basic Setup ---
    # --8<-- [start:basic-setup]
    from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryUnitOfWork
    from cqrs_ddd_core.cqrs.mediator import Mediator
    from cqrs_ddd_core.cqrs.registry import HandlerRegistry

    # Create registry
    registry = HandlerRegistry()
    registry.register_command_handler(CreateOrderCommand, CreateOrderHandler())

    # Create mediator
    mediator = Mediator(
        registry=registry,
        uow_factory=lambda: InMemoryUnitOfWork(),
    )

    # Dispatch command
    command = CreateOrderCommand(customer_id="cust-123")
    response = await mediator.send(command)

    print(response.result)  # Order ID
    print(len(response.events))  # Domain events
    # --8<-- [end:basic-setup]
    # --- end of the example ---

    [uow] = journal.uows
    assert uow.state is UnitOfWorkState.COMMITTED
    assert uow.store.committed("orders", response.result) is not None, "the order was committed"
    assert [type(event) for event in response.events] == [OrderCreated]
    assert response.events[0].aggregate_id == response.result
    assert response.events[0].correlation_id == response.correlation_id is not None
    assert capsys.readouterr().out.splitlines() == [response.result, "1"]


async def test_nested_commands_share_the_root_unit_of_work_and_commit_once() -> None:
    journal = fresh_journal()
    store = InMemoryStore()
    await seed_order(store, "order-123")
    # Fill-in: the mediator the example's handler closes over, with a unit of work exposing
    # `orders` (and `invoices` for the nested GenerateInvoiceCommand).
    from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
    from cqrs_ddd_core.cqrs.registry import HandlerRegistry

    registry = HandlerRegistry()
    registry.register_command_handler(GenerateInvoiceCommand, GenerateInvoiceHandler())
    mediator = Mediator(registry=registry, uow_factory=lambda: OrderUnitOfWork(store))

    # --- spec: Mediator / Nested Commands (Shared UoW) ---
    class ShipOrderHandler(CommandHandler[None]):
        async def handle(self, command: ShipOrderCommand) -> CommandResponse[None]:
            # Get UoW from context (inherited from parent)
            uow = get_current_uow()
            journal.uows.append(uow)  # fill-in: record what the handler saw

            # Nested command reuses same UoW
            await mediator.send(GenerateInvoiceCommand(order_id=command.order_id))

            order = await uow.orders.get(command.order_id)
            order.ship()

            return CommandResponse(result=None, events=order.clear_events())

    registry.register_command_handler(ShipOrderCommand, ShipOrderHandler())  # fill-in

    # Root command creates new UoW, nested commands reuse it
    response = await mediator.send(ShipOrderCommand(order_id="order-123"))
    # Single commit at root level
    # --- end of the example ---

    root_uow, nested_uow = journal.uows
    assert nested_uow is root_uow, "the nested command reused the root's unit of work"
    assert journal.commits == 1, "one commit, at the root"
    assert root_uow.state is UnitOfWorkState.COMMITTED
    assert store.committed("orders", "order-123").value.status == "SHIPPED"
    assert store.committed("invoices", "invoice-order-123") is not None
    assert [type(event) for event in response.events] == [OrderShipped]


async def test_a_failing_root_rolls_back_the_nested_command_too() -> None:
    """The other half of "single commit at root level": no commit means nothing of the nested."""
    journal = fresh_journal()
    store = InMemoryStore()
    from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
    from cqrs_ddd_core.cqrs.registry import HandlerRegistry
    from cqrs_ddd_core.primitives.exceptions import NotFoundError

    registry = HandlerRegistry()
    registry.register_command_handler(GenerateInvoiceCommand, GenerateInvoiceHandler())
    mediator = Mediator(registry=registry, uow_factory=lambda: OrderUnitOfWork(store))

    class ShipOrderHandler(CommandHandler[None]):  # the spec's handler, unchanged
        async def handle(self, command: ShipOrderCommand) -> CommandResponse[None]:
            uow = get_current_uow()
            await mediator.send(GenerateInvoiceCommand(order_id=command.order_id))
            order = await uow.orders.get(command.order_id)
            order.ship()
            return CommandResponse(result=None, events=order.clear_events())

    registry.register_command_handler(ShipOrderCommand, ShipOrderHandler())

    # No order "order-404": the handler fails after the nested command succeeded.
    with pytest.raises(NotFoundError, match="order-404"):
        await mediator.send(ShipOrderCommand(order_id="order-404"))

    assert journal.commits == 0
    assert store.keys("invoices") == [], "the nested command's invoice was rolled back"


async def test_logging_middleware_logs_each_command_with_its_correlation_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fresh_journal()
    # Fill-in: the registry and uow_factory the example takes from its surroundings.
    from cqrs_ddd_core.cqrs.mediator import Mediator
    from cqrs_ddd_core.cqrs.registry import HandlerRegistry

    store = InMemoryStore()
    registry = HandlerRegistry()
    registry.register_command_handler(CreateOrderCommand, CreateOrderHandler())

    def uow_factory() -> OrderUnitOfWork:
        return OrderUnitOfWork(store)

    # --- spec: Mediator / With Middleware ---
    from cqrs_ddd_core.middleware.logging import LoggingMiddleware
    from cqrs_ddd_core.middleware.registry import MiddlewareRegistry

    middleware_registry = MiddlewareRegistry()
    middleware_registry.register(LoggingMiddleware())

    mediator = Mediator(
        registry=registry,
        uow_factory=uow_factory,
        middleware_registry=middleware_registry,
    )
    # --- end of the example ---

    with caplog.at_level(logging.INFO, logger="cqrs_ddd_core.messages"):
        response = await mediator.send(CreateOrderCommand(customer_id="cust-123"))

    [record] = [r for r in caplog.records if r.name == "cqrs_ddd_core.messages"]
    assert record.getMessage().startswith("CreateOrderCommand succeeded in")
    assert f"[correlation_id={response.correlation_id}]" in record.getMessage()
    assert store.committed("orders", response.result) is not None

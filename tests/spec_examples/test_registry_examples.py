"""docs/reference/handlers.md, the registry: instances for every kind, and a factory.

The handlers and ``EmailService`` are fill-ins from `domain`. The example registers a factory
for ``CreateOrderCommand`` after an instance of the same handler class: the factory declares
``-> CreateOrderHandler``, so it replaces how that one handler is built (a handler of another
class would be refused: one command type, one handler).
"""

from __future__ import annotations

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.cqrs.mediator import Mediator
from tests.spec_examples.spec_domain import (
    CreateOrderCommand,
    CreateOrderHandler,
    EmailService,
    GetOrderHandler,
    GetOrderQuery,
    OrderCreated,
    OrderCreatedHandler,
    OrderUnitOfWork,
    fresh_journal,
)


def test_the_registry_example_runs_as_written() -> None:
    # --- spec: Registry ---
    from cqrs_ddd_core.cqrs.registry import HandlerRegistry

    registry = HandlerRegistry()

    # Register command handler
    registry.register_command_handler(CreateOrderCommand, CreateOrderHandler())

    # Register query handler
    registry.register_query_handler(GetOrderQuery, GetOrderHandler())

    # Register event handler
    registry.register_event_handler(OrderCreated, OrderCreatedHandler())

    # With factory (dependency injection)
    def create_handler() -> CreateOrderHandler:
        email_service = EmailService()
        return CreateOrderHandler(email_service)

    registry.register_command_handler(CreateOrderCommand, create_handler)
    # --- end of the example ---

    first = registry.get_command_handler(CreateOrderCommand)
    second = registry.get_command_handler(CreateOrderCommand)
    assert isinstance(first, CreateOrderHandler)
    assert first is not second  # the factory builds a handler for each command


async def test_registered_instances_answer_commands_queries_and_events() -> None:
    journal = fresh_journal()
    store = InMemoryStore()

    # --- spec: Registry (the first half) ---
    from cqrs_ddd_core.cqrs.registry import HandlerRegistry

    registry = HandlerRegistry()

    # Register command handler
    registry.register_command_handler(CreateOrderCommand, CreateOrderHandler())

    # Register query handler
    registry.register_query_handler(GetOrderQuery, GetOrderHandler())

    # Register event handler
    registry.register_event_handler(OrderCreated, OrderCreatedHandler())
    # --- end ---

    mediator = Mediator(registry=registry, uow_factory=lambda: OrderUnitOfWork(store))
    created = await mediator.send(CreateOrderCommand(customer_id="cust-123"))
    found = await mediator.send(GetOrderQuery(order_id=created.result))

    assert found.result.order_id == created.result
    assert [(name, type(event)) for name, event in journal.events] == [
        ("OrderCreatedHandler", OrderCreated)
    ]
    assert journal.emails == [], "the instance was registered without an email service"


async def test_a_factory_builds_the_handler_with_its_dependencies_for_each_command() -> None:
    journal = fresh_journal()
    store = InMemoryStore()
    built: list[CreateOrderHandler] = []

    # --- spec: Registry (the factory half) ---
    from cqrs_ddd_core.cqrs.registry import HandlerRegistry

    registry = HandlerRegistry()

    # With factory (dependency injection)
    def create_handler() -> CreateOrderHandler:
        email_service = EmailService()
        built.append(CreateOrderHandler(email_service))  # fill-in: remember what was built
        return built[-1]

    registry.register_command_handler(CreateOrderCommand, create_handler)
    # --- end ---

    mediator = Mediator(registry=registry, uow_factory=lambda: OrderUnitOfWork(store))
    first = await mediator.send(CreateOrderCommand(customer_id="cust-1"))
    second = await mediator.send(CreateOrderCommand(customer_id="cust-2"))

    assert len(built) == 2
    assert built[0] is not built[1], "a fresh handler per command"
    assert all(isinstance(handler.email_service, EmailService) for handler in built)
    assert journal.emails == [
        f"cust-1: order {first.result} received",
        f"cust-2: order {second.result} received",
    ]

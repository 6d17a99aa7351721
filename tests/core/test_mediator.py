"""The mediator's unit-of-work scope, rollback rules, context and correlation - edge by edge."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.handler import CommandHandler
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_session_id, get_current_uow
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse, QueryResponse
from cqrs_ddd_core.primitives.context import get_correlation_id
from cqrs_ddd_core.primitives.exceptions import (
    HandlerAlreadyRegisteredError,
    HandlerNotFoundError,
    UnitOfWorkError,
)
from tests.core.shop import (
    GetOrderQuery,
    InjectedFault,
    Journal,
    Order,
    OrderPlaced,
    PlaceOrderCommand,
    RecordingMiddleware,
    ReserveStockCommand,
    ShopUnitOfWork,
    StockReserved,
    build_shop,
)

# --- one unit of work per root command ------------------------------------------------------


async def test_a_root_command_opens_one_unit_of_work_that_nested_commands_reuse() -> None:
    shop = build_shop()

    await shop.mediator.send(PlaceOrderCommand(order_id="o-1", customer_id="c-1"))

    assert len(shop.journal.opened) == 1
    parent_uow, nested_uow = shop.seen.uows
    assert parent_uow is nested_uow is shop.journal.opened[0]
    assert shop.journal.commits == 1
    assert shop.committed("orders") == ["o-1"]
    assert shop.committed("reservations") == ["o-1"]


async def test_nothing_is_visible_before_the_root_commits() -> None:
    shop = build_shop()
    visible_during_handling: list[list[str]] = []

    async def look(event: Any) -> None:
        visible_during_handling.append(shop.committed("orders"))

    shop.registry.register_event_handler(OrderPlaced, look)
    await shop.mediator.send(PlaceOrderCommand(order_id="o-1", customer_id="c-1"))

    assert visible_during_handling == [[]]
    assert shop.committed("orders") == ["o-1"]


@pytest.mark.parametrize("stage", ["handler", "nested", "middleware", "event_handler"])
async def test_an_exception_anywhere_rolls_everything_back_and_reaches_the_caller(
    stage: str,
) -> None:
    shop = build_shop(middleware_priorities={"outer": 10})
    shop.faults.stages.add(stage)

    with pytest.raises(InjectedFault, match=stage):
        await shop.mediator.send(PlaceOrderCommand(order_id="o-1", customer_id="c-1"))

    assert shop.committed("orders") == []
    assert shop.committed("reservations") == []
    assert shop.journal.commits == 0
    assert shop.journal.rollbacks == 1


async def test_a_response_with_success_false_is_rolled_back_and_publishes_nothing() -> None:
    shop = build_shop()

    response = await shop.mediator.send(
        PlaceOrderCommand(order_id="o-1", customer_id="c-1", report_failure=True)
    )

    assert response.success is False
    assert shop.committed("orders") == []
    assert shop.committed("reservations") == []
    assert shop.journal.commits == 0
    # The nested command's event was dispatched inside the transaction; the root's was not.
    assert [type(e) for e in shop.seen.events] == [StockReserved]


async def test_a_failed_nested_command_caught_by_its_parent_undoes_only_its_own_writes() -> None:
    shop = build_shop()

    class TolerantHandler(CommandHandler[str]):
        async def handle(self, command: PlaceOrderCommand) -> CommandResponse[str]:
            uow: ShopUnitOfWork = get_current_uow()
            await uow.orders.add(Order.place(command.order_id, command.customer_id))
            shop.faults.stages.add("nested")
            try:
                await shop.mediator.send(
                    ReserveStockCommand(order_id=command.order_id, sku="s", quantity=1)
                )
            except InjectedFault:
                pass  # the parent decides: keep the order, without the reservation
            return CommandResponse(result=command.order_id)

    registry = HandlerRegistry()
    registry.register_command_handler(PlaceOrderCommand, TolerantHandler())
    registry.register_command_handler(
        ReserveStockCommand, shop.registry.get_command_handler(ReserveStockCommand)
    )
    mediator = Mediator(registry, lambda: ShopUnitOfWork(shop.store, shop.journal))

    await mediator.send(PlaceOrderCommand(order_id="o-1", customer_id="c-1"))

    assert shop.committed("orders") == ["o-1"]
    assert shop.committed("reservations") == []


# --- context is restored -------------------------------------------------------------------


async def test_after_the_root_ends_there_is_no_current_unit_of_work() -> None:
    shop = build_shop()
    await shop.mediator.send(PlaceOrderCommand(order_id="o-1", customer_id="c-1"))

    assert get_current_uow() is None
    assert get_current_session_id() is None
    assert get_correlation_id() is None


async def test_independent_root_commands_never_share_a_correlation_id() -> None:
    shop = build_shop()
    first = await shop.mediator.send(PlaceOrderCommand(order_id="o-1", customer_id="c-1"))
    second = await shop.mediator.send(PlaceOrderCommand(order_id="o-2", customer_id="c-1"))

    assert first.correlation_id is not None
    assert second.correlation_id is not None
    assert first.correlation_id != second.correlation_id


async def test_a_failing_root_command_restores_the_context_too() -> None:
    shop = build_shop()
    shop.faults.stages.add("handler")
    with pytest.raises(InjectedFault):
        await shop.mediator.send(PlaceOrderCommand(order_id="o-1", customer_id="c-1"))

    assert get_current_uow() is None
    assert get_correlation_id() is None


async def test_concurrent_root_commands_each_get_their_own_unit_of_work() -> None:
    shop = build_shop()
    await asyncio.gather(
        *(
            shop.mediator.send(PlaceOrderCommand(order_id=f"o-{i}", customer_id="c"))
            for i in range(20)
        )
    )

    assert len(shop.journal.opened) == 20
    assert shop.journal.commits == 20
    by_order = {}
    for command, uow in zip(shop.seen.commands, shop.seen.uows, strict=True):
        by_order.setdefault(command.order_id, set()).add(id(uow))
    assert all(len(uows) == 1 for uows in by_order.values())


# --- tasks spawned inside a handler --------------------------------------------------------


class SpawnCommand(Command[None]):
    pass


async def test_a_task_spawned_in_a_handler_never_joins_the_finished_unit_of_work() -> None:
    shop = build_shop()
    spawned: list[asyncio.Task[Any]] = []
    seen_in_task: list[Any] = []

    committed = asyncio.Event()

    class SpawningHandler(CommandHandler[None]):
        async def handle(self, command: SpawnCommand) -> CommandResponse[None]:
            async def later() -> None:
                await committed.wait()  # set once the parent's send returned: committed
                seen_in_task.append(get_current_uow())
                await shop.mediator.send(PlaceOrderCommand(order_id="late", customer_id="c"))

            spawned.append(asyncio.create_task(later()))
            return CommandResponse(result=None)

    shop.registry.register_command_handler(SpawnCommand, SpawningHandler())
    parent = await shop.mediator.send(SpawnCommand())
    assert shop.journal.commits == 1
    committed.set()
    await asyncio.wait_for(spawned[0], timeout=5)

    assert seen_in_task == [None]
    # The spawned command ran as a root of its own: a second unit of work, its own commit.
    assert len(shop.journal.opened) == 2
    assert shop.journal.commits == 2
    assert shop.committed("orders") == ["late"]
    late_command = shop.seen.commands[0]
    assert late_command.correlation_id == parent.correlation_id  # the same story
    assert late_command.causation_id == parent.causation_id  # caused by the spawning command


async def test_a_command_sent_after_the_commit_runs_as_a_root_of_its_own() -> None:
    """An ``on_commit`` callback runs while the scope still exists, but its unit of work is
    committed: a command sent there must open a new one, not a savepoint in the old one."""
    shop = build_shop()
    follow_ups: list[CommandResponse[Any]] = []

    async def after_placing(event: OrderPlaced) -> None:
        if event.aggregate_id != "o-1":
            return

        async def follow_up() -> None:
            command = PlaceOrderCommand(order_id="o-2", customer_id="c-1")
            follow_ups.append(await shop.mediator.send(command))

        get_current_uow().on_commit(follow_up)

    shop.registry.register_event_handler(OrderPlaced, after_placing)
    await shop.mediator.send(PlaceOrderCommand(order_id="o-1", customer_id="c-1"))

    assert [response.success for response in follow_ups] == [True]
    assert len(shop.journal.opened) == 2
    assert shop.journal.commits == 2
    assert shop.committed("orders") == ["o-1", "o-2"]


async def test_a_task_spawned_while_the_parent_still_runs_does_not_share_its_session() -> None:
    shop = build_shop()
    uows: list[Any] = []

    class GatheringHandler(CommandHandler[None]):
        async def handle(self, command: SpawnCommand) -> CommandResponse[None]:
            uows.append(get_current_uow())
            await asyncio.gather(
                shop.mediator.send(PlaceOrderCommand(order_id="a", customer_id="c")),
                shop.mediator.send(PlaceOrderCommand(order_id="b", customer_id="c")),
            )
            return CommandResponse(result=None)

    shop.registry.register_command_handler(SpawnCommand, GatheringHandler())
    await shop.mediator.send(SpawnCommand())

    # gather() runs each send in a task of its own: each is a root with its own transaction.
    assert len(shop.journal.opened) == 3
    assert uows[0] not in shop.seen.uows


# --- queries ---------------------------------------------------------------------------------


async def test_a_query_returns_a_query_response_read_through_the_unit_of_work() -> None:
    shop = build_shop()
    await shop.mediator.send(PlaceOrderCommand(order_id="o-1", customer_id="c-9"))

    response = await shop.mediator.send(GetOrderQuery(order_id="o-1"))

    assert isinstance(response, QueryResponse)
    assert response.result == "c-9"
    assert response.correlation_id is not None
    assert response.causation_id is not None


class WritingQuery(Query[None]):
    pass


async def test_a_query_handler_never_commits_writes() -> None:
    shop = build_shop()

    class SneakyHandler:
        async def handle(self, query: WritingQuery) -> QueryResponse[None]:
            await get_current_uow().orders.add(Order.place("sneaky", "c"))
            return QueryResponse(result=None)

    shop.registry.register_query_handler(WritingQuery, SneakyHandler())
    await shop.mediator.send(WritingQuery())

    assert shop.committed("orders") == []
    assert shop.journal.commits == 0


async def test_a_query_handler_cannot_send_commands() -> None:
    shop = build_shop()

    class CommandingHandler:
        async def handle(self, query: WritingQuery) -> QueryResponse[None]:
            await shop.mediator.send(PlaceOrderCommand(order_id="x", customer_id="c"))
            return QueryResponse(result=None)

    shop.registry.register_query_handler(WritingQuery, CommandingHandler())
    with pytest.raises(UnitOfWorkError, match="PlaceOrderCommand was sent while handling a query"):
        await shop.mediator.send(WritingQuery())


async def test_a_query_inside_a_command_reads_the_commands_own_writes() -> None:
    shop = build_shop()
    read: list[Any] = []

    async def read_back(event: OrderPlaced) -> None:
        read.append((await shop.mediator.send(GetOrderQuery(order_id="o-1"))).result)

    shop.registry.register_event_handler(OrderPlaced, read_back)
    await shop.mediator.send(PlaceOrderCommand(order_id="o-1", customer_id="c-3"))

    assert read == ["c-3"]
    assert len(shop.journal.opened) == 1


# --- correlation and causation -------------------------------------------------------------


async def test_a_root_keeps_its_correlation_id_and_everything_inherits_it() -> None:
    shop = build_shop()
    root = PlaceOrderCommand(order_id="o-1", customer_id="c-1", correlation_id="story-1")

    response = await shop.mediator.send(root)

    parent, nested = shop.seen.commands
    assert response.correlation_id == "story-1"
    assert parent.correlation_id == nested.correlation_id == "story-1"
    assert all(e.correlation_id == "story-1" for e in shop.seen.events)
    assert all(e.correlation_id == "story-1" for e in response.events)


async def test_causation_ids_point_at_the_direct_parent() -> None:
    shop = build_shop()
    root = PlaceOrderCommand(order_id="o-1", customer_id="c-1")

    response = await shop.mediator.send(root)

    parent, nested = shop.seen.commands
    assert parent.command_id == root.command_id
    assert nested.causation_id == root.command_id
    stock_reserved, order_placed = shop.seen.events
    assert stock_reserved.causation_id == nested.command_id
    assert order_placed.causation_id == root.command_id
    assert response.causation_id == root.command_id
    assert [e.causation_id for e in response.events] == [root.command_id]


async def test_a_command_sent_by_an_event_handler_is_caused_by_the_event() -> None:
    shop = build_shop()
    followers: list[Command[Any]] = []

    async def follow_up(event: StockReserved) -> None:
        followers.append(ReserveStockCommand(order_id="extra", sku="s", quantity=1))

    shop.registry.register_event_handler(StockReserved, follow_up)
    await shop.mediator.send(PlaceOrderCommand(order_id="o-1", customer_id="c-1"))

    stock_reserved = next(e for e in shop.seen.events if isinstance(e, StockReserved))
    assert followers[0].causation_id == stock_reserved.event_id
    assert followers[0].correlation_id == stock_reserved.correlation_id


# --- in-process events ---------------------------------------------------------------------


class Ping(Command[int]):
    depth: int


async def test_deep_chains_of_events_and_nested_commands_never_deadlock() -> None:
    from cqrs_ddd_core.domain.events import DomainEvent

    class Pinged(DomainEvent):
        depth: int

    registry = HandlerRegistry()
    journal = Journal()
    store = InMemoryStore()
    mediator = Mediator(registry, lambda: ShopUnitOfWork(store, journal))
    depths: list[int] = []

    class PingHandler:
        async def handle(self, command: Ping) -> CommandResponse[int]:
            depths.append(command.depth)
            return CommandResponse(result=command.depth, events=[Pinged(depth=command.depth)])

    async def on_pinged(event: Pinged) -> None:
        if event.depth < 50:
            await mediator.send(Ping(depth=event.depth + 1))

    registry.register_command_handler(Ping, PingHandler())
    registry.register_event_handler(Pinged, on_pinged)

    await asyncio.wait_for(mediator.send(Ping(depth=0)), timeout=10)

    assert depths == list(range(51))
    assert len(journal.opened) == 1
    assert journal.commits == 1


# --- middleware ----------------------------------------------------------------------------


async def test_middleware_runs_in_priority_order_around_nested_commands_too() -> None:
    shop = build_shop(middleware_priorities={"inner": 20, "outer": 10})

    await shop.mediator.send(PlaceOrderCommand(order_id="o-1", customer_id="c-1"))

    assert shop.seen.middleware_calls == [
        "outer>PlaceOrderCommand",
        "inner>PlaceOrderCommand",
        "outer>ReserveStockCommand",
        "inner>ReserveStockCommand",
        "inner<ReserveStockCommand",
        "outer<ReserveStockCommand",
        "inner<PlaceOrderCommand",
        "outer<PlaceOrderCommand",
    ]


async def test_middleware_registered_later_is_picked_up() -> None:
    shop = build_shop(middleware_priorities={"first": 10})
    await shop.mediator.send(GetOrderQuery(order_id="x"))
    shop.middleware.register(RecordingMiddleware("second", shop.seen, shop.faults), priority=20)
    shop.seen.middleware_calls.clear()
    await shop.mediator.send(GetOrderQuery(order_id="x"))

    assert shop.seen.middleware_calls == [
        "first>GetOrderQuery",
        "second>GetOrderQuery",
        "second<GetOrderQuery",
        "first<GetOrderQuery",
    ]


# --- errors that name the type -------------------------------------------------------------


class Unhandled(Command[None]):
    pass


async def test_a_missing_handler_names_the_command_type() -> None:
    shop = build_shop()
    with pytest.raises(HandlerNotFoundError, match="Unhandled"):
        await shop.mediator.send(Unhandled())
    assert shop.journal.commits == 0


def test_a_second_handler_for_one_command_type_is_refused_by_name() -> None:
    registry = HandlerRegistry()

    class One(CommandHandler[None]):
        async def handle(self, command: Unhandled) -> CommandResponse[None]:
            return CommandResponse(result=None)

    class Another(One):
        pass

    registry.register_command_handler(Unhandled, One())
    with pytest.raises(HandlerAlreadyRegisteredError, match="Unhandled already has a handler"):
        registry.register_command_handler(Unhandled, Another())


async def test_send_refuses_what_is_neither_command_nor_query() -> None:
    shop = build_shop()
    with pytest.raises(TypeError, match="dict"):
        await shop.mediator.send({"type": "PlaceOrderCommand"})  # type: ignore[call-overload]


async def test_an_empty_middleware_registry_filled_in_later_is_used() -> None:
    # An empty registry is falsy (it has a length); the mediator must still keep it.
    shop = build_shop()
    shop.middleware.register(RecordingMiddleware("late", shop.seen, shop.faults))

    await shop.mediator.send(GetOrderQuery(order_id="x"))

    assert shop.seen.middleware_calls == ["late>GetOrderQuery", "late<GetOrderQuery"]

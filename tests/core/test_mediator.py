"""The mediator's unit-of-work scope, rollback rules, context and correlation - edge by edge."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cqrs_ddd_core.adapters.memory.unit_of_work import InMemoryStore
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.handler import CommandHandler
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse, QueryResponse
from cqrs_ddd_core.cqrs.scope import get_current_session_id
from cqrs_ddd_core.primitives.context import get_correlation_id
from cqrs_ddd_core.primitives.exceptions import (
    HandlerAlreadyRegisteredError,
    HandlerNotFoundError,
    UnitOfWorkError,
)
from tests.warehouse.domain import GoodsPutAway, Shipment, ShipmentReceived
from tests.warehouse.receiving import (
    FindShipmentQuery,
    InjectedFault,
    Journal,
    PutAwayCommand,
    ReceiveShipmentCommand,
    RecordingMiddleware,
    WarehouseUnitOfWork,
    build_warehouse,
)

# --- one unit of work per root command ------------------------------------------------------


async def test_a_root_command_opens_one_unit_of_work_that_nested_commands_reuse() -> None:
    warehouse = build_warehouse()

    await warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="s-1", supplier="acme"))

    assert len(warehouse.journal.opened) == 1
    parent_uow, nested_uow = warehouse.seen.uows
    assert parent_uow is nested_uow is warehouse.journal.opened[0]
    assert warehouse.journal.commits == 1
    assert warehouse.committed("shipments") == ["s-1"]
    assert warehouse.committed("putaways") == ["s-1"]


async def test_nothing_is_visible_before_the_root_commits() -> None:
    warehouse = build_warehouse()
    visible_during_handling: list[list[str]] = []

    async def look(event: Any) -> None:
        visible_during_handling.append(warehouse.committed("shipments"))

    warehouse.registry.register_event_handler(ShipmentReceived, look)
    await warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="s-1", supplier="acme"))

    assert visible_during_handling == [[]]
    assert warehouse.committed("shipments") == ["s-1"]


@pytest.mark.parametrize("stage", ["handler", "nested", "middleware", "event_handler"])
async def test_an_exception_anywhere_rolls_everything_back_and_reaches_the_caller(
    stage: str,
) -> None:
    warehouse = build_warehouse(middleware_priorities={"outer": 10})
    warehouse.faults.stages.add(stage)

    with pytest.raises(InjectedFault, match=stage):
        await warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="s-1", supplier="acme"))

    assert warehouse.committed("shipments") == []
    assert warehouse.committed("putaways") == []
    assert warehouse.journal.commits == 0
    assert warehouse.journal.rollbacks == 1


async def test_a_response_with_success_false_is_rolled_back_and_publishes_nothing() -> None:
    warehouse = build_warehouse()

    response = await warehouse.mediator.send(
        ReceiveShipmentCommand(shipment_id="s-1", supplier="acme", report_failure=True)
    )

    assert response.success is False
    assert warehouse.committed("shipments") == []
    assert warehouse.committed("putaways") == []
    assert warehouse.journal.commits == 0
    # The nested command's event was dispatched inside the transaction; the root's was not.
    assert [type(e) for e in warehouse.seen.events] == [GoodsPutAway]


async def test_a_failed_nested_command_caught_by_its_parent_undoes_only_its_own_writes() -> None:
    warehouse = build_warehouse()

    class TolerantHandler(CommandHandler[str]):
        async def handle(self, command: ReceiveShipmentCommand) -> CommandResponse[str]:
            uow: WarehouseUnitOfWork = get_current_uow()
            await uow.shipments.add(Shipment.receive(command.shipment_id, command.supplier, 1))
            warehouse.faults.stages.add("nested")
            try:
                await warehouse.mediator.send(
                    PutAwayCommand(shipment_id=command.shipment_id, shelf_id="shelf-1", quantity=1)
                )
            except InjectedFault:
                pass  # the parent decides: keep the shipment, without the putaway
            return CommandResponse(result=command.shipment_id)

    registry = HandlerRegistry()
    registry.register_command_handler(ReceiveShipmentCommand, TolerantHandler())
    registry.register_command_handler(
        PutAwayCommand, warehouse.registry.get_command_handler(PutAwayCommand)
    )
    mediator = Mediator(registry, lambda: WarehouseUnitOfWork(warehouse.store, warehouse.journal))

    await mediator.send(ReceiveShipmentCommand(shipment_id="s-1", supplier="acme"))

    assert warehouse.committed("shipments") == ["s-1"]
    assert warehouse.committed("putaways") == []


# --- context is restored -------------------------------------------------------------------


async def test_after_the_root_ends_there_is_no_current_unit_of_work() -> None:
    warehouse = build_warehouse()
    await warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="s-1", supplier="acme"))

    assert get_current_uow() is None
    assert get_current_session_id() is None
    assert get_correlation_id() is None


async def test_independent_root_commands_never_share_a_correlation_id() -> None:
    warehouse = build_warehouse()
    first = await warehouse.mediator.send(
        ReceiveShipmentCommand(shipment_id="s-1", supplier="acme")
    )
    second = await warehouse.mediator.send(
        ReceiveShipmentCommand(shipment_id="s-2", supplier="acme")
    )

    assert first.correlation_id is not None
    assert second.correlation_id is not None
    assert first.correlation_id != second.correlation_id


async def test_a_failing_root_command_restores_the_context_too() -> None:
    warehouse = build_warehouse()
    warehouse.faults.stages.add("handler")
    with pytest.raises(InjectedFault):
        await warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="s-1", supplier="acme"))

    assert get_current_uow() is None
    assert get_correlation_id() is None


async def test_concurrent_root_commands_each_get_their_own_unit_of_work() -> None:
    warehouse = build_warehouse()
    await asyncio.gather(
        *(
            warehouse.mediator.send(ReceiveShipmentCommand(shipment_id=f"s-{i}", supplier="acme"))
            for i in range(20)
        )
    )

    assert len(warehouse.journal.opened) == 20
    assert warehouse.journal.commits == 20
    by_shipment = {}
    for command, uow in zip(warehouse.seen.commands, warehouse.seen.uows, strict=True):
        by_shipment.setdefault(command.shipment_id, set()).add(id(uow))
    assert all(len(uows) == 1 for uows in by_shipment.values())


# --- tasks spawned inside a handler --------------------------------------------------------


class SpawnCommand(Command[None]):
    pass


async def test_a_task_spawned_in_a_handler_never_joins_the_finished_unit_of_work() -> None:
    warehouse = build_warehouse()
    spawned: list[asyncio.Task[Any]] = []
    seen_in_task: list[Any] = []

    committed = asyncio.Event()

    class SpawningHandler(CommandHandler[None]):
        async def handle(self, command: SpawnCommand) -> CommandResponse[None]:
            async def later() -> None:
                await committed.wait()  # set once the parent's send returned: committed
                seen_in_task.append(get_current_uow())
                await warehouse.mediator.send(
                    ReceiveShipmentCommand(shipment_id="late", supplier="acme")
                )

            spawned.append(asyncio.create_task(later()))
            return CommandResponse(result=None)

    warehouse.registry.register_command_handler(SpawnCommand, SpawningHandler())
    parent = await warehouse.mediator.send(SpawnCommand())
    assert warehouse.journal.commits == 1
    committed.set()
    await asyncio.wait_for(spawned[0], timeout=5)

    assert seen_in_task == [None]
    # The spawned command ran as a root of its own: a second unit of work, its own commit.
    assert len(warehouse.journal.opened) == 2
    assert warehouse.journal.commits == 2
    assert warehouse.committed("shipments") == ["late"]
    late_command = warehouse.seen.commands[0]
    assert late_command.correlation_id == parent.correlation_id  # the same story
    assert late_command.causation_id == parent.causation_id  # caused by the spawning command


async def test_a_command_sent_after_the_commit_runs_as_a_root_of_its_own() -> None:
    """An ``on_commit`` callback runs while the scope still exists, but its unit of work is
    committed: a command sent there must open a new one, not a savepoint in the old one."""
    warehouse = build_warehouse()
    follow_ups: list[CommandResponse[Any]] = []

    async def after_placing(event: ShipmentReceived) -> None:
        if event.aggregate_id != "s-1":
            return

        async def follow_up() -> None:
            command = ReceiveShipmentCommand(shipment_id="s-2", supplier="acme")
            follow_ups.append(await warehouse.mediator.send(command))

        get_current_uow().on_commit(follow_up)

    warehouse.registry.register_event_handler(ShipmentReceived, after_placing)
    await warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="s-1", supplier="acme"))

    assert [response.success for response in follow_ups] == [True]
    assert len(warehouse.journal.opened) == 2
    assert warehouse.journal.commits == 2
    assert warehouse.committed("shipments") == ["s-1", "s-2"]


async def test_a_task_spawned_while_the_parent_still_runs_does_not_share_its_session() -> None:
    warehouse = build_warehouse()
    uows: list[Any] = []

    class GatheringHandler(CommandHandler[None]):
        async def handle(self, command: SpawnCommand) -> CommandResponse[None]:
            uows.append(get_current_uow())
            await asyncio.gather(
                warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="a", supplier="acme")),
                warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="b", supplier="acme")),
            )
            return CommandResponse(result=None)

    warehouse.registry.register_command_handler(SpawnCommand, GatheringHandler())
    await warehouse.mediator.send(SpawnCommand())

    # gather() runs each send in a task of its own: each is a root with its own transaction.
    assert len(warehouse.journal.opened) == 3
    assert uows[0] not in warehouse.seen.uows


# --- queries ---------------------------------------------------------------------------------


async def test_a_query_returns_a_query_response_read_through_the_unit_of_work() -> None:
    warehouse = build_warehouse()
    await warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="s-1", supplier="c-9"))

    response = await warehouse.mediator.send(FindShipmentQuery(shipment_id="s-1"))

    assert isinstance(response, QueryResponse)
    assert response.result == "c-9"
    assert response.correlation_id is not None
    assert response.causation_id is not None


class WritingQuery(Query[None]):
    pass


async def test_a_query_handler_never_commits_writes() -> None:
    warehouse = build_warehouse()

    class SneakyHandler:
        async def handle(self, query: WritingQuery) -> QueryResponse[None]:
            await get_current_uow().shipments.add(Shipment.receive("sneaky", "acme", 10))
            return QueryResponse(result=None)

    warehouse.registry.register_query_handler(WritingQuery, SneakyHandler())
    await warehouse.mediator.send(WritingQuery())

    assert warehouse.committed("shipments") == []
    assert warehouse.journal.commits == 0


async def test_a_query_handler_cannot_send_commands() -> None:
    warehouse = build_warehouse()

    class CommandingHandler:
        async def handle(self, query: WritingQuery) -> QueryResponse[None]:
            await warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="x", supplier="acme"))
            return QueryResponse(result=None)

    warehouse.registry.register_query_handler(WritingQuery, CommandingHandler())
    with pytest.raises(
        UnitOfWorkError, match="ReceiveShipmentCommand was sent while handling a query"
    ):
        await warehouse.mediator.send(WritingQuery())


async def test_a_query_inside_a_command_reads_the_commands_own_writes() -> None:
    warehouse = build_warehouse()
    read: list[Any] = []

    async def read_back(event: ShipmentReceived) -> None:
        read.append((await warehouse.mediator.send(FindShipmentQuery(shipment_id="s-1"))).result)

    warehouse.registry.register_event_handler(ShipmentReceived, read_back)
    await warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="s-1", supplier="c-3"))

    assert read == ["c-3"]
    assert len(warehouse.journal.opened) == 1


# --- correlation and causation -------------------------------------------------------------


async def test_a_root_keeps_its_correlation_id_and_everything_inherits_it() -> None:
    warehouse = build_warehouse()
    root = ReceiveShipmentCommand(shipment_id="s-1", supplier="acme", correlation_id="story-1")

    response = await warehouse.mediator.send(root)

    parent, nested = warehouse.seen.commands
    assert response.correlation_id == "story-1"
    assert parent.correlation_id == nested.correlation_id == "story-1"
    assert all(e.correlation_id == "story-1" for e in warehouse.seen.events)
    assert all(e.correlation_id == "story-1" for e in response.events)


async def test_causation_ids_point_at_the_direct_parent() -> None:
    warehouse = build_warehouse()
    root = ReceiveShipmentCommand(shipment_id="s-1", supplier="acme")

    response = await warehouse.mediator.send(root)

    parent, nested = warehouse.seen.commands
    assert parent.command_id == root.command_id
    assert nested.causation_id == root.command_id
    goods_put_away, shipment_received = warehouse.seen.events
    assert goods_put_away.causation_id == nested.command_id
    assert shipment_received.causation_id == root.command_id
    assert response.causation_id == root.command_id
    assert [e.causation_id for e in response.events] == [root.command_id]


async def test_a_command_sent_by_an_event_handler_is_caused_by_the_event() -> None:
    warehouse = build_warehouse()
    followers: list[Command[Any]] = []

    async def follow_up(event: GoodsPutAway) -> None:
        followers.append(PutAwayCommand(shipment_id="extra", shelf_id="shelf-1", quantity=1))

    warehouse.registry.register_event_handler(GoodsPutAway, follow_up)
    await warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="s-1", supplier="acme"))

    goods_put_away = next(e for e in warehouse.seen.events if isinstance(e, GoodsPutAway))
    assert followers[0].causation_id == goods_put_away.event_id
    assert followers[0].correlation_id == goods_put_away.correlation_id


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
    mediator = Mediator(registry, lambda: WarehouseUnitOfWork(store, journal))
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
    warehouse = build_warehouse(middleware_priorities={"inner": 20, "outer": 10})

    await warehouse.mediator.send(ReceiveShipmentCommand(shipment_id="s-1", supplier="acme"))

    assert warehouse.seen.middleware_calls == [
        ("outer", "enters", "ReceiveShipmentCommand"),
        ("inner", "enters", "ReceiveShipmentCommand"),
        ("outer", "enters", "PutAwayCommand"),
        ("inner", "enters", "PutAwayCommand"),
        ("inner", "leaves", "PutAwayCommand"),
        ("outer", "leaves", "PutAwayCommand"),
        ("inner", "leaves", "ReceiveShipmentCommand"),
        ("outer", "leaves", "ReceiveShipmentCommand"),
    ]


async def test_middleware_registered_later_is_picked_up() -> None:
    warehouse = build_warehouse(middleware_priorities={"first": 10})
    await warehouse.mediator.send(FindShipmentQuery(shipment_id="x"))
    warehouse.middleware.register(
        RecordingMiddleware("second", warehouse.seen, warehouse.faults), priority=20
    )
    warehouse.seen.middleware_calls.clear()
    await warehouse.mediator.send(FindShipmentQuery(shipment_id="x"))

    assert warehouse.seen.middleware_calls == [
        ("first", "enters", "FindShipmentQuery"),
        ("second", "enters", "FindShipmentQuery"),
        ("second", "leaves", "FindShipmentQuery"),
        ("first", "leaves", "FindShipmentQuery"),
    ]


# --- errors that name the type -------------------------------------------------------------


class Unhandled(Command[None]):
    pass


async def test_a_missing_handler_names_the_command_type() -> None:
    warehouse = build_warehouse()
    with pytest.raises(HandlerNotFoundError, match="Unhandled"):
        await warehouse.mediator.send(Unhandled())
    assert warehouse.journal.commits == 0


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
    warehouse = build_warehouse()
    with pytest.raises(TypeError, match="dict"):
        await warehouse.mediator.send({"type": "ReceiveShipmentCommand"})  # type: ignore[call-overload]


async def test_an_empty_middleware_registry_filled_in_later_is_used() -> None:
    # An empty registry is falsy (it has a length); the mediator must still keep it.
    warehouse = build_warehouse()
    warehouse.middleware.register(RecordingMiddleware("late", warehouse.seen, warehouse.faults))

    await warehouse.mediator.send(FindShipmentQuery(shipment_id="x"))

    assert warehouse.seen.middleware_calls == [
        ("late", "enters", "FindShipmentQuery"),
        ("late", "leaves", "FindShipmentQuery"),
    ]

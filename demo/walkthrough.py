"""The walkthrough: every pattern of the repository, shown on the two real services.

One section per pattern, in the order a request meets them: the mediator and its unit of work,
nested commands, locks, routing, the outbox across services, a broker outage, a duplicate, a
poison message, and the story's correlation tree. Each section acts on the running services
(`demo/stack.py`), shows what happened, and checks it against real state - the databases, the
broker, the HTTP API - never against what the demo expected to print.
"""

from __future__ import annotations

import asyncio
import inspect
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any, TypeVar

from rich.tree import Tree
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from billing_service import bootstrap as billing_bootstrap
from billing_service.application import commands as billing_commands
from billing_service.application.commands import TransferFundsCommand
from billing_service.domain import events as billing_events
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.ports.outbox import IOutboxStorage, OutboxMessage, OutboxStatus
from cqrs_ddd_core.primitives.exceptions import DomainError
from cqrs_ddd_core.primitives.ids import new_id
from demo.narration import Narrator
from demo.observers import CommitRecorder, LockWatch, Seen
from demo.stack import BILLING_ORDERS_QUEUE, Stack
from ordering_service import bootstrap as ordering_bootstrap
from ordering_service.application import commands as ordering_commands
from ordering_service.application.commands import (
    CreateOrderCommand,
    OrderItem,
    ShipOrderCommand,
)
from ordering_service.domain import events as ordering_events
from ordering_service.infrastructure.tables import shipments

T = TypeVar("T")
WAIT = 15.0
"""Seconds any wait may take before the demo reports a failure instead of hanging."""
MERCHANT = billing_bootstrap.MERCHANT_ACCOUNT
ACCOUNTS = ("ada", "bob", MERCHANT)


@dataclass
class Story:
    """What one section leaves for the next ones."""

    first_order: str = ""
    first_correlation: str = ""
    paid_order: str = ""


async def walk(narrator: Narrator, stack: Stack) -> None:
    story = Story()
    await open_accounts(narrator, stack, story)
    sections: list[Callable[[Narrator, Stack, Story], Awaitable[None]]] = [
        mediator_and_unit_of_work,
        nested_commands,
        transfer_locking,
        routing,
        outbox_across_services,
        broker_outage,
        duplicate_delivery,
        poison_message,
        correlation_tree,
    ]
    for section in sections:
        await section(narrator, stack, story)


# --- the set-up --------------------------------------------------------------------------


async def open_accounts(narrator: Narrator, stack: Stack, story: Story) -> None:
    for account, balance in {"ada": "100.00", "bob": "5.00"}.items():
        reply = await stack.billing_http.post(
            "/accounts", json={"account_id": account, "balance": balance}
        )
        reply.raise_for_status()
    databases = sorted(path.name for path in stack.folder.glob("*.db"))
    narrator.evidence(
        "the services (built by their bootstrap.build, started with service.start())",
        [
            ("databases", f"{', '.join(databases)}  in {stack.folder}"),
            ("broker", stack.side.description),
            ("accounts", ", ".join([f"{a} {await _balance(stack, a)}" for a in ACCOUNTS])),
        ],
    )
    narrator.say(
        "ada and bob were opened with POST /accounts; billing opens its merchant at start."
    )


# --- 1. the mediator and the unit of work -----------------------------------------------


async def mediator_and_unit_of_work(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        1,
        "mediator",
        "The mediator and the unit of work",
        code=[
            "core/cqrs_ddd_core/cqrs/mediator.py",
            "ordering_service/application/command_handlers.py",
        ],
        scenario=[
            "features/core/mediator.feature",
            "features/core/unit_of_work.feature",
        ],
        story=(
            "ordering.mediator.send(CreateOrderCommand) opens one unit of work, runs the "
            "handler through the middleware (logging, outbox), lets the in-process read model "
            "see OrderCreated, and commits once: the order row, its summary row and the "
            "outbox row of OrderCreated in one transaction."
        ),
    )
    engine = _engine(stack.ordering.storage.engine)
    recorder = CommitRecorder(engine)
    recorder.install()
    try:
        command = CreateOrderCommand(
            customer_id="ada",
            items=[OrderItem(sku="dune", quantity=2, unit_price=Decimal("12.50"))],
        )
        with recorder.this_task() as statements:
            response = await stack.ordering.mediator.send(command)
    finally:
        recorder.uninstall()
    order_id = str(response.result)
    story.first_order = order_id
    story.first_correlation = str(response.correlation_id)
    event = response.events[0]
    row = await stack.ordering.outbox.storage.get(event.event_id)
    order = await stack.ordering_http.get(f"/orders/{order_id}")
    summaries = await stack.ordering_http.get("/orders", params={"customer_id": "ada"})
    narrator.evidence(
        "the CommandResponse",
        [
            ("result (order id)", order_id),
            ("events", ", ".join(e.type_name() for e in response.events)),
            ("correlation_id", str(response.correlation_id)),
            ("causation_id", f"{response.causation_id}  (the command's own id)"),
            ("SQL statements", f"{statements['COMMIT']} COMMIT on ordering.db by this command"),
            ("outbox row", f"{row.topic if row else None}, status {row.status if row else '-'}"),
        ],
    )
    narrator.check(
        response.success and order.status_code == 200, "the order exists: GET /orders/{id} is 200"
    )
    narrator.check(
        [e.type_name() for e in response.events] == ["OrderCreated"],
        "the response carries the OrderCreated event",
    )
    narrator.check(statements["COMMIT"] == 1, "one COMMIT for the whole command")
    narrator.check(
        row is not None
        and row.topic == "OrderCreated"
        and row.correlation_id == response.correlation_id,
        "the event's outbox row was committed with the order, in the story's correlation",
    )
    narrator.check(
        any(s["order_id"] == order_id for s in summaries.json()),
        "the read model has the order's summary (GET /orders reads summaries, not orders)",
    )


# --- 2. nested commands ------------------------------------------------------------------


async def nested_commands(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        2,
        "nested",
        "A nested command commits once with its parent",
        code="ordering_service/application/command_handlers.py (ShipOrderHandler)",
        scenario=[
            "features/ordering/shipping.feature",
            "features/core/nested_commands.feature",
        ],
        story=(
            "ShipOrderCommand sends CreateShipmentCommand from inside its handler. The nested "
            "command joins the root's unit of work in a SAVEPOINT; only the root commits. When "
            "the order refuses to ship after the shipment was written, both go."
        ),
    )
    engine = _engine(stack.ordering.storage.engine)
    recorder = CommitRecorder(engine)
    recorder.install()
    try:
        # An order of a customer without an account: billing will refuse to pay it, so it is
        # never CONFIRMED, and an order ships only once paid.
        unpaid = await stack.ordering.mediator.send(
            CreateOrderCommand(
                customer_id="zoe",
                items=[OrderItem(sku="emma", quantity=1, unit_price=Decimal("9.90"))],
            )
        )
        refused: str | None = None
        with recorder.this_task() as failed:
            try:
                await stack.ordering.mediator.send(ShipOrderCommand(order_id=str(unpaid.result)))
            except DomainError as error:
                refused = str(error)
        narrator.say("Shipping the unpaid order: the shipment is written, then the order refuses:")
        narrator.say(f"[yellow]{refused}[/]")
        left_behind = await _shipments(engine, shipments.c.order_id == str(unpaid.result))
        narrator.check(refused is not None, "the refusal reached the caller")
        narrator.check(
            failed["SAVEPOINT"] == 1 and failed["COMMIT"] == 0,
            f"the nested command ran in a SAVEPOINT and nothing was committed "
            f"({failed['SAVEPOINT']} SAVEPOINT, {failed['COMMIT']} COMMIT)",
        )
        narrator.check(left_behind == 0, "no shipment row was left behind for the unpaid order")

        with narrator.waiting("waiting for billing to pay the first order (section 5 tells how)"):
            status = await _wait_for_status(stack, story.first_order, {"CONFIRMED"})
        narrator.check(status == "CONFIRMED", "the first order is paid (CONFIRMED)")
        with recorder.this_task() as shipped:
            response = await stack.ordering.mediator.send(
                ShipOrderCommand(order_id=story.first_order)
            )
    finally:
        recorder.uninstall()
    rows = await _shipments(engine, shipments.c.order_id == story.first_order)
    order = (await stack.ordering_http.get(f"/orders/{story.first_order}")).json()
    logged = stack.commands.of_story(str(response.correlation_id))
    narrator.table(
        "the commands of this ship (as LoggingMiddleware saw them)",
        ["command", "id", "caused by"],
        [[c.name, _short(c.command_id), _short(c.causation_id)] for c in logged],
    )
    narrator.check(
        shipped["COMMIT"] == 1 and shipped["SAVEPOINT"] == 1,
        f"two commands, one SAVEPOINT, one COMMIT ({shipped['COMMIT']} COMMIT)",
    )
    narrator.check(
        [c.name for c in logged] == ["ShipOrderCommand", "CreateShipmentCommand"]
        and logged[1].causation_id == logged[0].command_id,
        "the nested command was caused by its parent",
    )
    narrator.check(
        rows == 1 and order["status"] == "SHIPPED" and order["shipment_id"] == response.result,
        f"the shipment row and the SHIPPED order committed together "
        f"(shipment {_short(str(response.result))})",
    )


# --- 3. locks -----------------------------------------------------------------------------


async def transfer_locking(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        3,
        "locking",
        "TransferFunds: opposite transfers at once, no deadlock",
        code=[
            "core/cqrs_ddd_core/cqrs/concurrency.py (CriticalSection)",
            "core/cqrs_ddd_core/middleware/locking.py",
            "core/cqrs_ddd_core/adapters/sqlalchemy/locking.py",
        ],
        scenario=[
            "features/core/transfer_funds.feature",
            "features/billing/transfers.feature",
        ],
        story=(
            "TransferFundsCommand names both accounts as critical resources. The locking "
            "middleware takes them sorted - so a->b and b->a queue up instead of deadlocking - "
            "and holds them until the transaction has committed. Here 60 transfers between "
            "three accounts, in every direction, are sent at the same moment."
        ),
    )
    accounts = ["acct-1", "acct-2", "acct-3"]
    for account in accounts:
        reply = await stack.billing_http.post(
            "/accounts", json={"account_id": account, "balance": "1000.00"}
        )
        reply.raise_for_status()
    before = {a: await _balance(stack, a) for a in accounts}
    directions = [(0, 1), (1, 0), (1, 2), (2, 1), (2, 0), (0, 2)]
    rng = random.Random(7)
    transfers = [
        TransferFundsCommand(
            from_account=accounts[directions[i % 6][0]],
            to_account=accounts[directions[i % 6][1]],
            amount=Decimal(rng.randint(1, 40)),
        )
        for i in range(60)
    ]
    expected = dict(before)
    for t in transfers:
        expected[t.from_account] -= t.amount
        expected[t.to_account] += t.amount
    watch = LockWatch(stack.billing.storage.locks)
    watch.install()
    try:
        with narrator.waiting("60 transfers running at once"):
            async with asyncio.timeout(60):
                results = await asyncio.gather(
                    *(stack.billing.mediator.send(t) for t in transfers), return_exceptions=True
                )
    finally:
        watch.uninstall()
    errors = [r for r in results if isinstance(r, BaseException)]
    after = {a: await _balance(stack, a) for a in accounts}
    still_held = await stack.billing.storage.locks.get_active_locks()
    waits = sorted(watch.waits) or [0.0]
    narrator.table(
        "balances",
        ["account", "before", "after", "expected from the 60 transfers"],
        [[a, str(before[a]), str(after[a]), str(expected[a])] for a in accounts],
    )
    narrator.evidence(
        "lock acquisitions (timed around the lock strategy's acquire)",
        [
            ("acquisitions", f"{len(watch.waits)} (2 per transfer)"),
            ("median acquire", _ms(waits[len(waits) // 2])),
            ("longest acquire", f"{_ms(waits[-1])}  (queued behind other transfers)"),
            ("most acquiring at once", f"{watch.most_waiting}  (for 3 accounts)"),
            ("locks held afterwards", str(len(still_held))),
        ],
    )
    narrator.check(not errors, f"all 60 transfers committed ({len(errors)} failed)")
    narrator.check(
        sum(after.values()) == sum(before.values()),
        f"money is conserved: {sum(before.values())} before, {sum(after.values())} after",
    )
    narrator.check(
        after == expected, "every balance is exactly what the 60 transfers make it (no lost update)"
    )
    narrator.check(
        len(watch.waits) == 2 * len(transfers) and watch.most_waiting > len(accounts),
        f"transfers really waited for each other: {watch.most_waiting} acquisitions at once "
        f"for {len(accounts)} accounts",
    )
    narrator.check(not still_held, "every lock was released")


# --- 4. routing ---------------------------------------------------------------------------


async def routing(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        4,
        "routing",
        "Routing: integration, notifications, in-process",
        code=[
            "core/cqrs_ddd_core/cqrs/publishers/route_table.py",
            "ordering_service/bootstrap.py (ROUTES)",
            "billing_service/bootstrap.py (ROUTES)",
        ],
        scenario="features/core/routing.feature",
        story=(
            "Each service's route table says where an event goes: 'integration' leaves through "
            "the outbox to the other service, 'notifications' goes out under "
            "notifications.<Event> for people, and the rest stays in-process (the read model). "
            "The demo's own queues on the broker saw everything that travelled so far."
        ),
    )
    with narrator.waiting("waiting for the first order's confirmation to be relayed"):
        await stack.tap.wait_for("OrderConfirmed", order_id=story.first_order, timeout=WAIT)
    rows: list[list[str]] = []
    verdicts: list[bool] = []
    for service, event_type in _event_types():
        declared = _routed_to(service, event_type)
        seen = {m.destination for m in stack.tap.seen if m.event_type == event_type.type_name()}
        rows.append([service, event_type.type_name(), declared, ", ".join(sorted(seen)) or "-"])
        if declared == "in-process":
            verdicts.append(not seen)
        elif declared == "notifications":
            verdicts.append("integration" not in seen)
        else:  # integration - billing also tells people about payment results
            verdicts.append(not seen or "integration" in seen)
    narrator.table(
        "every event class, where it is routed, where it was seen",
        ["service", "event", "routed to", "seen on the broker"],
        rows,
    )
    summaries = (await stack.ordering_http.get("/orders", params={"customer_id": "ada"})).json()
    first = next(s for s in summaries if s["order_id"] == story.first_order)
    narrator.check(all(verdicts), "every event travelled exactly where its route table sends it")
    narrator.check(
        {"OrderCreated", "PaymentCaptured"}
        <= {m.event_type for m in stack.tap.seen if m.destination == "integration"},
        "integration events crossed between the services",
    )
    narrator.check(
        first["status"] == "SHIPPED",
        "OrderShipped never left ordering, yet the read model shows SHIPPED (in-process handler)",
    )


# --- 5. outbox -> broker -> consumer ---------------------------------------------------------


async def outbox_across_services(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        5,
        "outbox",
        "Outbox -> broker -> consumer, across the two services",
        code=[
            "core/cqrs_ddd_core/cqrs/outbox/buffered.py",
            "ordering_service/consumers.py",
            "billing_service/consumers.py",
            "billing_service/application/command_handlers.py",
        ],
        scenario="features/cross_context/order_payment.feature",
        story=(
            "Two orders over HTTP: ada can pay, bob (5.00) cannot. OrderCreated leaves ordering "
            "through its outbox; billing's consumer pays the invoice with a nested transfer and "
            "answers PaymentCaptured or PaymentFailed through its own outbox; ordering's "
            "consumer confirms or cancels."
        ),
    )
    customers = {"ada": "30.00", "bob": "25.00"}
    before = {a: await _balance(stack, a) for a in ACCOUNTS}
    orders: dict[str, str] = {}
    for customer, price in customers.items():
        reply = await stack.ordering_http.post(
            "/orders",
            json={
                "customer_id": customer,
                "items": [{"sku": "atlas", "quantity": 1, "unit_price": price}],
            },
        )
        narrator.say(
            f"POST /orders for {customer} ({price}) -> {reply.status_code} {reply.json()['status']}"
        )
        orders[customer] = reply.json()["order_id"]
    with narrator.waiting("waiting for billing's answers to reach ordering"):
        statuses = {
            c: await _wait_for_status(stack, o, {"CONFIRMED", "CANCELLED"})
            for c, o in orders.items()
        }
    story.paid_order = orders["ada"]
    after = {a: await _balance(stack, a) for a in ACCOUNTS}
    rows = []
    invoices: dict[str, dict[str, Any]] = {}
    for customer, order_id in orders.items():
        order = (await stack.ordering_http.get(f"/orders/{order_id}")).json()
        found = (await stack.billing_http.get("/invoices", params={"order_id": order_id})).json()
        invoices[customer] = found[0] if len(found) == 1 else {}
        rows.append(
            [
                customer,
                _short(order_id),
                order["total"],
                order["status"],
                invoices[customer].get("status", "-"),
                order["cancellation_reason"] or "",
            ]
        )
    narrator.table(
        "the two orders", ["customer", "order", "total", "order status", "invoice", "reason"], rows
    )
    narrator.table(
        "balances in billing",
        ["account", "before", "after"],
        [[a, str(before[a]), str(after[a])] for a in before],
    )
    wanted = {("OrderConfirmed", orders["ada"]), ("OrderCancelled", orders["bob"])}

    async def notified() -> set[tuple[str, str]] | None:
        # The notifications leave through the outbox after the status commits: wait for them.
        feed = (await stack.ordering_http.get("/notifications")).json()
        seen = {(n["event_type"], n["order_id"]) for n in feed}
        return seen if wanted <= seen else None

    try:
        told = await _until(notified)
    except TimeoutError:
        told = set()  # the check below fails and says so
    narrator.check(
        statuses["ada"] == "CONFIRMED" and invoices["ada"].get("status") == "PAID",
        "ada's order was paid and confirmed",
    )
    narrator.check(
        after["ada"] == before["ada"] - Decimal(customers["ada"])
        and after[MERCHANT] == before[MERCHANT] + Decimal(customers["ada"]),
        "the money moved from ada to the merchant, once",
    )
    narrator.check(
        statuses["bob"] == "CANCELLED"
        and invoices["bob"].get("status") == "FAILED"
        and "insufficient funds" in str(invoices["bob"].get("failure_reason", "")).lower(),
        "bob's order was cancelled, its invoice FAILED for insufficient funds",
    )
    narrator.check(
        after["bob"] == before["bob"],
        "bob's balance is untouched (the nested transfer rolled back)",
    )
    narrator.check(
        ("OrderConfirmed", orders["ada"]) in told and ("OrderCancelled", orders["bob"]) in told,
        "both customers were notified (GET /notifications)",
    )


# --- 6. a broker outage -------------------------------------------------------------------------


async def broker_outage(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        6,
        "broker-failure",
        "A broker failure, retried from the outbox, nothing lost",
        code=[
            "core/cqrs_ddd_core/cqrs/outbox/service.py",
            "core/cqrs_ddd_core/cqrs/outbox/buffered.py",
        ],
        scenario="features/core/outbox.feature (A broker outage loses nothing)",
        story=(
            "The order commits with its outbox row whatever the broker does. While the broker "
            "refuses, the relay marks the row failed and retries with back-off; once the broker "
            "is back, the row goes out and the order completes."
        ),
    )
    storage = stack.ordering.outbox.storage
    async with stack.side.refuse_order_created() as how:
        narrator.say(f"broker broken: [yellow]{how}[/]")
        response = await stack.ordering.mediator.send(
            CreateOrderCommand(
                customer_id="ada",
                items=[OrderItem(sku="ulysses", quantity=1, unit_price=Decimal("10.00"))],
            )
        )
        order_id = str(response.result)
        event_id = response.events[0].event_id
        with narrator.waiting("the relay tries while the broker refuses"):
            async with asyncio.timeout(WAIT):
                while not _refused_twice(row := await storage.get(event_id)):  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
        assert row is not None  # _refused_twice said so
        narrator.evidence(
            "the outbox row while the broker is down",
            [
                ("status", str(row.status)),
                ("attempts", str(row.attempts)),
                ("last error", str(row.last_error)),
            ],
        )
    narrator.say("broker back")
    with narrator.waiting("waiting for the order to complete"):
        status = await _wait_for_status(stack, order_id, {"CONFIRMED", "CANCELLED"})
    # The relay marks the row once the broker confirmed it, which can come after the order's
    # round trip: wait for the mark, and show whatever it is if it never comes.
    final = await _row_when_published(storage, event_id)
    delivered = _copies(stack, event_id)
    invoices = (await stack.billing_http.get("/invoices", params={"order_id": order_id})).json()
    narrator.evidence(
        "afterwards",
        [
            (
                "outbox row",
                f"{final.status} after {final.attempts} attempts" if final else "missing",
            ),
            ("order", status),
            ("copies on the broker", str(len(delivered))),
        ],
    )
    narrator.check(
        _refused_twice(row), "while the broker refused, the row was kept and its failures recorded"
    )
    narrator.check(
        final is not None and final.status == OutboxStatus.PUBLISHED,
        "once the broker was back, the same row was published",
    )
    narrator.check(
        status == "CONFIRMED" and len(invoices) == 1 and invoices[0]["status"] == "PAID",
        "nothing was lost: billing paid the order and ordering confirmed it",
    )
    narrator.check(len(delivered) == 1, "the broker carried the message once")


def _copies(stack: Stack, event_id: str) -> list[Seen]:
    return [message for message in stack.tap.seen if message.event_id == event_id]


def _refused_twice(row: OutboxMessage | None) -> bool:
    return (
        row is not None
        and row.status == OutboxStatus.FAILED
        and row.attempts >= 2
        and bool(row.last_error)
    )


# --- 7. a duplicate delivery ------------------------------------------------------------------


async def duplicate_delivery(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        7,
        "inbox",
        "A duplicate delivery absorbed by the inbox",
        code=[
            "core/cqrs_ddd_core/cqrs/consumers/base.py",
            "core/cqrs_ddd_core/adapters/sqlalchemy/inbox.py",
        ],
        scenario=[
            "features/core/inbox.feature",
            "features/cross_context/order_payment.feature",
        ],
        story=(
            "Relaying is at-least-once: a lost confirm means the same message again. Here "
            "ada's paid order's OrderCreated is published a second time, same message id. "
            "Billing's consumer finds the id in its inbox and acknowledges it with no effect."
        ),
    )
    original = stack.tap.find("OrderCreated", order_id=story.paid_order)[0]
    [consumer] = stack.billing.consumers
    processed, duplicates = consumer.processed, consumer.duplicates
    balance = await _balance(stack, "ada")
    await stack.ordering.broker.publisher.publish(
        "OrderCreated",
        original.payload,
        message_id=original.event_id,
        correlation_id=original.correlation_id,
        causation_id=original.causation_id,
    )
    with narrator.waiting("waiting for billing to receive the copy"):
        await _until(lambda: consumer.duplicates > duplicates)
        await _until(lambda: len(_copies(stack, original.event_id)) >= 2)
    copies = _copies(stack, original.event_id)
    invoices = (
        await stack.billing_http.get("/invoices", params={"order_id": story.paid_order})
    ).json()
    narrator.evidence(
        "billing's consumer",
        [
            ("message id", original.event_id),
            ("copies on the broker", str(len(copies))),
            ("processed", f"{processed} -> {consumer.processed}"),
            ("duplicates", f"{duplicates} -> {consumer.duplicates}"),
            ("invoices of the order", str(len(invoices))),
        ],
    )
    narrator.check(len(copies) == 2, "the same message really travelled twice")
    narrator.check(
        consumer.duplicates == duplicates + 1 and consumer.processed == processed,
        "the consumer acknowledged the copy without handling it again",
    )
    narrator.check(len(invoices) == 1, "still one invoice for the order")
    narrator.check(await _balance(stack, "ada") == balance, "ada paid once")


# --- 8. a poison message -------------------------------------------------------------------------


async def poison_message(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        8,
        "dead-letter",
        "A poison message dead-lettered with its reason",
        code=[
            "core/cqrs_ddd_core/cqrs/consumers/base.py (hydrate)",
            "core/cqrs_ddd_core/adapters/memory/broker.py",
            "core/cqrs_ddd_core/adapters/rabbitmq/dead_letters.py",
        ],
        scenario="features/core/dead_letters.feature",
        story=(
            "An OrderCreated whose total is not a number can never be handled: billing's "
            "consumer refuses to hydrate it, and the broker moves it to the dead-letter queue "
            "at once - no retries - with the reason, for an operator to read."
        ),
    )
    message_id = new_id()
    bad = {
        "event_type": "OrderCreated",
        "event_id": message_id,
        "aggregate_id": "order-x",
        "order_id": "order-x",
        "customer_id": "ada",
        "total": "a lot",
        "items": [],
    }
    await stack.ordering.broker.publisher.publish("OrderCreated", bad, message_id=message_id)
    with narrator.waiting("waiting for the dead letter"):
        letters = await _until(
            lambda: _mine(stack.side.dead_letters(BILLING_ORDERS_QUEUE), message_id)
        )
    letter = letters[0]
    invoices = (await stack.billing_http.get("/invoices", params={"order_id": "order-x"})).json()
    narrator.evidence(
        f"the dead-letter queue of {BILLING_ORDERS_QUEUE}",
        [
            ("message id", str(letter.message_id)),
            ("type", str(letter.event_type)),
            ("attempts", str(letter.attempts)),
            ("reason", letter.reason),
        ],
    )
    narrator.check(len(letters) == 1, "the message is in the dead-letter queue, once")
    narrator.check(letter.attempts == 1, "it was not retried: no retry can fix it")
    narrator.check("total" in letter.reason, "the reason names the bad field (total)")
    narrator.check(invoices == [], "it had no effect: no invoice for order-x")


# --- 9. the correlation tree -------------------------------------------------------------------


async def correlation_tree(narrator: Narrator, stack: Stack, story: Story) -> None:
    narrator.section(
        9,
        "correlation",
        "The story of one order across both services",
        code=[
            "core/cqrs_ddd_core/primitives/context.py",
            "core/cqrs_ddd_core/cqrs/mediator.py",
        ],
        scenario=[
            "features/core/nested_commands.feature (correlation)",
            "features/cross_context/order_payment.feature",
        ],
        story=(
            "Every command and event carries the story's correlation_id and its direct parent's "
            "id as causation_id - across the broker too. The tree below is rebuilt from those "
            "ids alone: the commands as LoggingMiddleware logged them in both services, the "
            "events as the demo's queues received them."
        ),
    )
    correlation = story.first_correlation
    nodes: dict[str, _Node] = {}
    for command in stack.commands.of_story(correlation):
        nodes[command.command_id] = _Node(
            command.name, command.command_id, command.causation_id, _service_of(command.name)
        )
    for message in stack.tap.of_story(correlation):
        node = nodes.setdefault(
            message.event_id,
            _Node(
                message.event_type,
                message.event_id,
                message.causation_id,
                _service_of(message.event_type),
            ),
        )
        node.destinations.add(message.destination)
    roots = [n for n in nodes.values() if n.parent not in nodes]
    for node in nodes.values():
        if node.parent in nodes:
            nodes[node.parent].children.append(node)
    tree = Tree(f"correlation [bold]{_short(correlation)}[/]")
    for root in roots:
        _grow(tree, root)
    narrator.show(tree)
    names = {n.name for n in nodes.values()}
    chain = _path_to_root(
        nodes, next((n for n in nodes.values() if n.name == "OrderConfirmed"), None)
    )
    narrator.check(
        len(roots) == 1 and roots[0].name == "CreateOrderCommand",
        "one root: the CreateOrderCommand that started the story",
    )
    narrator.check(
        {
            "CreateOrderCommand",
            "OrderCreated",
            "PayInvoiceCommand",
            "TransferFundsCommand",
            "PaymentCaptured",
            "ConfirmOrderCommand",
            "OrderConfirmed",
        }
        <= names,
        "the story crossed to billing and back",
    )
    narrator.check(
        chain
        == [
            "OrderConfirmed",
            "ConfirmOrderCommand",
            "PaymentCaptured",
            "PayInvoiceCommand",
            "OrderCreated",
            "CreateOrderCommand",
        ],
        "the confirmation leads back, parent by parent, to the order's creation",
    )


@dataclass
class _Node:
    name: str
    id: str
    parent: str | None
    service: str
    destinations: set[str] = field(default_factory=set)
    children: list[_Node] = field(default_factory=list)


def _grow(branch: Tree, node: _Node) -> None:
    where = f" -> {', '.join(sorted(node.destinations))}" if node.destinations else ""
    colour = "cyan" if node.service == "ordering" else "magenta"
    child = branch.add(f"[{colour}]{node.service}[/] {node.name}{where} [dim]{_short(node.id)}[/]")
    for grandchild in node.children:
        _grow(child, grandchild)


def _path_to_root(nodes: dict[str, _Node], node: _Node | None) -> list[str]:
    path: list[str] = []
    while node is not None and len(path) < 20:
        path.append(node.name)
        node = nodes.get(node.parent or "")
    return path


def _classes(module: ModuleType, base: type[T]) -> list[type[T]]:
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, base)
        and value.__module__ == module.__name__
    ]


def _event_types() -> list[tuple[str, type[DomainEvent]]]:
    return [("ordering", e) for e in _classes(ordering_events, DomainEvent)] + [
        ("billing", e) for e in _classes(billing_events, DomainEvent)
    ]


def _routed_to(service: str, event_type: type[DomainEvent]) -> str:
    routes = (ordering_bootstrap if service == "ordering" else billing_bootstrap).ROUTES
    return ", ".join(routes.get(event_type, ())) or "in-process"


def _service_of(name: str) -> str:
    for service, modules in (
        ("ordering", (ordering_commands, ordering_events)),
        ("billing", (billing_commands, billing_events)),
    ):
        for module in modules:
            if any(
                cls.__name__ == name
                for cls in _classes(module, Command) + _classes(module, DomainEvent)
            ):
                return service
    return "?"


# --- small helpers ---------------------------------------------------------------------------


def _engine(engine: AsyncEngine | None) -> AsyncEngine:
    assert engine is not None, "the demo runs the services on SQLite files"
    return engine


async def _shipments(engine: AsyncEngine, condition: Any) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(shipments).where(condition)
        return int((await connection.execute(query)).scalar_one())


async def _balance(stack: Stack, account: str) -> Decimal:
    reply = await stack.billing_http.get(f"/accounts/{account}")
    reply.raise_for_status()
    return Decimal(reply.json()["balance"])


async def _wait_for_status(stack: Stack, order_id: str, wanted: set[str]) -> str:
    async with asyncio.timeout(WAIT):
        while True:
            status = str((await stack.ordering_http.get(f"/orders/{order_id}")).json()["status"])
            if status in wanted:
                return status
            await asyncio.sleep(0.01)


async def _row_when_published(storage: IOutboxStorage, event_id: str) -> OutboxMessage | None:
    """The outbox row once it is published; as it is after `WAIT` seconds if it never is."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        row = await storage.get(event_id)
        published = row is not None and row.status == OutboxStatus.PUBLISHED
        if published or asyncio.get_running_loop().time() > deadline:
            return row
        await asyncio.sleep(0.01)


async def _until(check: Callable[[], Any]) -> Any:
    """Poll ``check`` (a value or an awaitable) until it is truthy, at most `WAIT` seconds."""
    try:
        async with asyncio.timeout(WAIT):
            while True:
                value = check()
                if inspect.isawaitable(value):
                    value = await value
                if value:
                    return value
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise TimeoutError(
            f"still not true after {WAIT}s: {inspect.getsource(check).strip()}"
        ) from None


async def _mine(letters: Awaitable[list[Any]], message_id: str) -> list[Any]:
    return [letter for letter in await letters if letter.message_id == message_id]


def _short(identifier: str | None) -> str:
    return identifier[:8] if identifier else "-"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"

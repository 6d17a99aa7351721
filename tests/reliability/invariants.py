"""The invariants every reliability test ends with, checked on the services' own databases.

Whatever failure a test injected, when the dust settles the two services must agree:

* every order is final (CONFIRMED - or SHIPPED after it - or CANCELLED) and got there once -
  one ``OrderCreated``, one confirmation or cancellation notice in ordering's outbox;
* a confirmed order has exactly one invoice, PAID, for its total; a cancelled one has none
  (cancelled before billing charged it), or one FAILED, or one REFUNDED (paid after its payment
  deadline, then given back) - never PAID: a cancelled order's customer is charged nothing in
  the end. Each invoice was announced once (``PaymentCaptured``/``PaymentFailed``);
* money is charged once: each customer's balance is its opening balance minus its paid
  invoices (a refunded one counts nothing), the merchant's is its opening balance plus all of
  them, and the sum of all balances never changes;
* each integration message was processed once: one inbox row per message (billing's
  cancellations queue counts ordering's ``OrderCancelled`` and ``RefundRequested``);
* no outbox row is left pending, claimed, failed or dead;
* the dead-letter queues hold exactly the poison messages the test sent, each with a reason.

`read_state` reads the databases directly (the services expose nothing for this);
`check_invariants` raises `InvariantViolation` listing every broken invariant.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aio_pika
from sqlalchemy import text

from billing_service.consumers import CANCELLATION_TOPICS, CANCELLATIONS_QUEUE
from billing_service.consumers import QUEUE_NAME as BILLING_QUEUE
from cqrs_ddd_core.adapters.host.service import notifications_queue
from cqrs_ddd_core.adapters.rabbitmq.dead_letters import DeadLetter, read_dead_letters
from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine, read_only
from ordering_service.consumers import QUEUE_NAME as ORDERING_QUEUE

MERCHANT = "merchant"
"""The account billing pays every invoice into (its ``MERCHANT_ACCOUNT`` default)."""
FINAL = {"CONFIRMED", "CANCELLED", "SHIPPED"}
PAID_STATUSES = {"CONFIRMED", "SHIPPED"}
CHARGED_NOTHING = {"FAILED", "REFUNDED"}
"""What the invoice of a CANCELLED order may read, if it has one."""
SERVICE_QUEUES = (
    BILLING_QUEUE,
    CANCELLATIONS_QUEUE,
    ORDERING_QUEUE,
    notifications_queue("billing"),
    notifications_queue("ordering"),
)
"""Every work queue the services consume: each has a dead-letter queue to look into."""
UNFINISHED_OUTBOX = "status IN ('pending', 'claimed', 'failed')"


class InvariantViolation(AssertionError):
    """One or more invariants do not hold; the message lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n  - ".join(problems[:25])
        more = f"\n  ... and {len(problems) - 25} more" if len(problems) > 25 else ""
        super().__init__(f"{len(problems)} invariant violation(s):\n  - {shown}{more}")


@dataclass
class State:
    """What the services' databases and dead-letter queues hold."""

    orders: dict[str, dict[str, Any]]
    invoices: list[dict[str, Any]]
    balances: dict[str, Decimal]
    ordering_outbox: list[dict[str, Any]]
    billing_outbox: list[dict[str, Any]]
    inbox: Counter[str]
    """Inbox rows per consumer (queue) name."""
    dead_letters: dict[str, list[DeadLetter]] = field(default_factory=dict)

    @property
    def statuses(self) -> Counter[str]:
        return Counter(order["status"] for order in self.orders.values())


async def read_state(ordering_db: str, billing_db: str, amqp_url: str | None = None) -> State:
    """Everything the invariants need, read straight from the stores."""
    ordering = create_engine(ordering_db)
    billing = create_engine(billing_db)
    try:
        async with read_only(ordering).connect() as connection:
            orders = {
                row.id: {
                    "status": row.status,
                    "customer_id": row.customer_id,
                    "total": _total(row.lines),
                    "payment_id": row.payment_id,
                }
                for row in await connection.execute(
                    text("SELECT id, status, customer_id, lines, payment_id FROM orders")
                )
            }
            ordering_outbox = await _outbox(connection)
            ordering_inbox = await _inbox(connection)
        async with read_only(billing).connect() as connection:
            invoices = [
                dict(row._mapping)
                for row in await connection.execute(
                    text("SELECT order_id, customer_id, amount, status, payment_id FROM invoices")
                )
            ]
            balances = {
                row.id: Decimal(row.balance)
                for row in await connection.execute(text("SELECT id, balance FROM accounts"))
            }
            billing_outbox = await _outbox(connection)
            billing_inbox = await _inbox(connection)
    finally:
        await ordering.dispose()
        await billing.dispose()
    state = State(
        orders, invoices, balances, ordering_outbox, billing_outbox, ordering_inbox + billing_inbox
    )
    if amqp_url is not None:
        state.dead_letters = await read_all_dead_letters(amqp_url)
    return state


async def read_all_dead_letters(amqp_url: str) -> dict[str, list[DeadLetter]]:
    """The dead letters of every service queue (left in place)."""
    connection = await aio_pika.connect(amqp_url)
    try:
        return {queue: await read_dead_letters(connection, queue) for queue in SERVICE_QUEUES}
    finally:
        await connection.close()


def check_invariants(
    state: State,
    opening_balances: dict[str, Decimal],
    *,
    poison: dict[str, set[str]] | None = None,
) -> None:
    """Raise `InvariantViolation` naming every invariant ``state`` breaks.

    ``opening_balances`` holds every account as it was opened (the merchant's too);
    ``poison`` the ids of the poison messages sent to each queue, the only dead letters allowed.
    """
    problems: list[str] = []
    problems += _orders_final_once(state)
    problems += _one_invoice_per_charged_order(state)
    problems += _money_charged_once(state, opening_balances)
    problems += _messages_processed_once(state)
    problems += _outboxes_drained(state)
    problems += _only_poison_dead_lettered(state, poison or {})
    if problems:
        raise InvariantViolation(problems)


# --- the invariants ------------------------------------------------------------------------


def _orders_final_once(state: State) -> list[str]:
    problems = [
        f"order {order_id} is {order['status']}, not final"
        for order_id, order in state.orders.items()
        if order["status"] not in FINAL
    ]
    created = _per_order(state.ordering_outbox, {"OrderCreated"})
    outcomes = _per_order(
        state.ordering_outbox, {"notifications.OrderConfirmed", "notifications.OrderCancelled"}
    )
    for order_id, order in state.orders.items():
        if created[order_id] != 1:
            problems.append(f"order {order_id} announced OrderCreated {created[order_id]} times")
        if order["status"] in FINAL and outcomes[order_id] != 1:
            problems.append(
                f"order {order_id} reached its final state {outcomes[order_id]} times, not once"
            )
    return problems


def _one_invoice_per_charged_order(state: State) -> list[str]:
    problems: list[str] = []
    invoices: dict[str, list[dict[str, Any]]] = {}
    for invoice in state.invoices:
        invoices.setdefault(invoice["order_id"], []).append(invoice)
    results = _per_order(state.billing_outbox, {"PaymentCaptured", "PaymentFailed"})
    for order_id in invoices.keys() - state.orders.keys():
        problems.append(f"invoice for order {order_id}, which ordering does not know")
    for order_id, order in state.orders.items():
        found = invoices.get(order_id, [])
        cancelled = order["status"] == "CANCELLED"
        if len(found) != 1 and not (cancelled and not found):
            problems.append(f"{order['status']} order {order_id} has {len(found)} invoices")
            continue
        if not found:
            continue  # cancelled before billing charged it: nothing to check
        invoice = found[0]
        if Decimal(invoice["amount"]) != order["total"]:
            problems.append(
                f"order {order_id} totals {order['total']} but was invoiced {invoice['amount']}"
            )
        allowed = CHARGED_NOTHING if cancelled else {"PAID"}
        if order["status"] in FINAL and invoice["status"] not in allowed:
            problems.append(
                f"order {order_id} is {order['status']} but its invoice is {invoice['status']}"
                + (": its customer was charged for a cancelled order" if cancelled else "")
            )
        if results[order_id] != 1:
            problems.append(
                f"billing announced the payment of order {order_id} {results[order_id]} times"
            )
    return problems


def _money_charged_once(state: State, opening: dict[str, Decimal]) -> list[str]:
    problems: list[str] = []
    paid = [invoice for invoice in state.invoices if invoice["status"] == "PAID"]
    charged: dict[str, Decimal] = {}
    for invoice in paid:
        customer = invoice["customer_id"]
        charged[customer] = charged.get(customer, Decimal(0)) + Decimal(invoice["amount"])
    takings = sum(charged.values(), Decimal(0))
    for account_id in state.balances.keys() - opening.keys():
        problems.append(f"account {account_id} exists but was never opened by the test")
    for account_id in opening.keys() - state.balances.keys():
        problems.append(f"account {account_id} was opened but is gone")
    for account_id, balance in state.balances.items():
        if account_id not in opening:
            continue
        received = takings if account_id == MERCHANT else Decimal(0)
        expected = opening[account_id] - charged.get(account_id, Decimal(0)) + received
        if balance != expected:
            problems.append(
                f"account {account_id} holds {balance}, expected {expected} from its paid "
                f"invoices: it was charged more (or less) than once per paid order"
            )
    before = sum(opening.values(), Decimal(0))
    after = sum(state.balances.values(), Decimal(0))
    if before != after:
        problems.append(f"the balances sum to {after}, not {before}: money appeared or vanished")
    return problems


def _messages_processed_once(state: State) -> list[str]:
    problems: list[str] = []
    sent = {
        BILLING_QUEUE: len(
            {r["message_id"] for r in state.ordering_outbox if r["topic"] == "OrderCreated"}
        ),
        CANCELLATIONS_QUEUE: len(
            {r["message_id"] for r in state.ordering_outbox if r["topic"] in CANCELLATION_TOPICS}
        ),
        ORDERING_QUEUE: len(
            {
                r["message_id"]
                for r in state.billing_outbox
                if r["topic"] in ("PaymentCaptured", "PaymentFailed")
            }
        ),
    }
    for queue, count in sent.items():
        if state.inbox[queue] != count:
            problems.append(
                f"{queue} recorded {state.inbox[queue]} processed messages for {count} sent"
            )
    return problems


def _outboxes_drained(state: State) -> list[str]:
    problems: list[str] = []
    for service, rows in (("ordering", state.ordering_outbox), ("billing", state.billing_outbox)):
        left = Counter(row["status"] for row in rows if row["status"] != "published")
        for status, count in sorted(left.items()):
            problems.append(f"{count} {service} outbox row(s) left {status}")
    return problems


def _only_poison_dead_lettered(state: State, poison: dict[str, set[str]]) -> list[str]:
    problems: list[str] = []
    for queue in sorted(state.dead_letters.keys() | poison.keys()):
        letters, expected = state.dead_letters.get(queue, []), poison.get(queue, set())
        found = {letter.message_id or "" for letter in letters}
        for letter in letters:
            if letter.message_id not in expected:
                problems.append(
                    f"{queue} dead-lettered {letter.event_type} {letter.message_id}, which was "
                    f"not poison: {letter.reason}"
                )
            elif not letter.reason:
                problems.append(f"{queue} dead-lettered {letter.message_id} without a reason")
        for missing in sorted(expected - found):
            problems.append(f"poison message {missing} is not in {queue}'s dead letters")
    return problems


# --- reading -------------------------------------------------------------------------------


def _total(lines: Any) -> Decimal:
    if isinstance(lines, str):
        lines = json.loads(lines)
    total = sum((Decimal(str(line["unit_price"])) * line["quantity"] for line in lines), Decimal(0))
    return total.quantize(Decimal("0.01"))


def _per_order(outbox: list[dict[str, Any]], topics: set[str]) -> Counter[str]:
    return Counter(str(row["payload"].get("order_id")) for row in outbox if row["topic"] in topics)


async def _outbox(connection: Any) -> list[dict[str, Any]]:
    rows = await connection.execute(
        text("SELECT message_id, topic, status, payload FROM cqrs_outbox")
    )
    return [
        {
            "message_id": row.message_id,
            "topic": row.topic,
            "status": row.status,
            "payload": json.loads(row.payload) if isinstance(row.payload, str) else row.payload,
        }
        for row in rows
    ]


async def _inbox(connection: Any) -> Counter[str]:
    rows = await connection.execute(
        text("SELECT consumer, COUNT(*) AS n FROM cqrs_inbox GROUP BY consumer")
    )
    return Counter({row.consumer: row.n for row in rows})

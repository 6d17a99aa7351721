"""Section 5: outbox -> broker -> consumer, across the two services.

Two orders over HTTP: ada can pay, bob cannot. `OrderCreated` leaves ordering through its
outbox, billing's consumer pays the invoice with a nested transfer and answers through its own
outbox, and ordering's consumer confirms or cancels. The thing to notice: bob's refusal is a
business answer (`PaymentFailed`), not an error - the nested transfer rolled back, his balance
is untouched, and his order is cancelled with the reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from demo.narration import Narrator
from demo.sections.common import ACCOUNTS, MERCHANT, balance_of, short, wait_for_status, wait_until
from demo.sections.story import Story
from demo.stack import Stack


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
    before = {a: await balance_of(stack, a) for a in ACCOUNTS}
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
            c: await wait_for_status(stack, o, {"CONFIRMED", "CANCELLED"})
            for c, o in orders.items()
        }
    story.paid_order = orders["ada"]
    after = {a: await balance_of(stack, a) for a in ACCOUNTS}
    rows = []
    invoices: dict[str, dict[str, Any]] = {}
    for customer, order_id in orders.items():
        order = (await stack.ordering_http.get(f"/orders/{order_id}")).json()
        found = (await stack.billing_http.get("/invoices", params={"order_id": order_id})).json()
        invoices[customer] = found[0] if len(found) == 1 else {}
        rows.append(
            [
                customer,
                short(order_id),
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
        told = await wait_until(notified)
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

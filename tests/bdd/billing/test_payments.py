"""Scenarios: features/billing/payments.feature."""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from billing_service.application.commands import PayInvoiceCommand
from billing_service.application.queries import ListInvoicesQuery
from billing_service.consumers import orders_consumer
from billing_service.domain.events import PaymentCaptured, PaymentFailed
from billing_service.infrastructure.memory import BillingInMemoryUnitOfWork
from cqrs_ddd_core.adapters.memory.broker import InMemoryBroker
from cqrs_ddd_core.adapters.memory.inbox import InMemoryInboxStorage
from cqrs_ddd_core.primitives.ids import new_id
from tests.bdd.billing.conftest import Story
from tests.conftest import Run

scenarios("billing/payments.feature")


class CrashBeforeCommit:
    """The process dies after the payment's handler (and its nested transfer) returned."""

    async def __call__(self, message: Any, next: Any) -> Any:
        response = await next(message)
        if isinstance(message, PayInvoiceCommand):
            raise RuntimeError("the process died before the payment was committed")
        return response


@given("the payment will crash after its transfer, before the commit")
def crash_before_commit(story: Story) -> None:
    story.billing.middleware.register(CrashBeforeCommit(), priority=5)


@when(
    parsers.parse('ordering announces order "{order_id}" of customer "{customer_id}" for "{total}"')
)
def order_announced(run: Run, story: Story, order_id: str, customer_id: str, total: str) -> None:
    # The payload ordering publishes, handed to billing's own consumer as the broker would: it
    # reads it through billing's model of the event, in a unit of work with its inbox.
    payload = {
        "event_type": "OrderCreated",
        "event_id": new_id(),  # each announcement is a message of its own
        "order_id": order_id,
        "customer_id": customer_id,
        "total": total,
        "items": [{"sku": "book", "quantity": 1, "unit_price": total}],
    }
    store = story.billing.store
    consumer = orders_consumer(
        InMemoryBroker(),  # never started: the payload is handed over directly
        story.billing.mediator,
        merchant_account="merchant",
        uow_factory=lambda: BillingInMemoryUnitOfWork(store),
        inbox=InMemoryInboxStorage(store),
    )
    try:
        run(consumer.handle, payload)
    except Exception as error:
        story.error = error


def invoices(run: Run, story: Story, order_id: str) -> list[Any]:
    return run(story.billing.mediator.send, ListInvoicesQuery(order_id=order_id)).result


@then(parsers.parse('the invoice of "{order_id}" is PAID'))
def invoice_paid(run: Run, story: Story, order_id: str) -> None:
    [invoice] = invoices(run, story, order_id)
    assert invoice.status == "PAID"


@then(parsers.parse('the invoice of "{order_id}" is FAILED because "{reason}"'))
def invoice_failed(run: Run, story: Story, order_id: str, reason: str) -> None:
    [invoice] = invoices(run, story, order_id)
    assert invoice.status == "FAILED"
    assert reason in invoice.failure_reason


@then(parsers.parse('"{event_type}" was emitted for "{order_id}"'))
def emitted(story: Story, event_type: str, order_id: str) -> None:
    event_class = {"PaymentCaptured": PaymentCaptured, "PaymentFailed": PaymentFailed}[event_type]
    [event] = story.billing.recorder.of_type(event_class)
    assert event.order_id == order_id


@then("the payment crashed")
def payment_crashed(story: Story) -> None:
    assert isinstance(story.error, RuntimeError)


@then(parsers.parse('no invoice exists for "{order_id}"'))
def no_invoice(run: Run, story: Story, order_id: str) -> None:
    assert invoices(run, story, order_id) == []

"""`EmbeddedDeployment`: ordering and billing in this process - the embedded default.

Both services are assembled by their own `bootstrap.build`, exactly as ``__main__`` does,
with in-memory storage and one shared `InMemoryBroker`. They start on the scenario's event
loop, so the outbox relays and the consumers run in the background between steps. Each
scenario gets a fresh pair: nothing outlives it. Answers are the services' DTOs dumped as
JSON, the shape their HTTP APIs return. Scenarios: features/cross_context/order_payment.feature.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing_service import bootstrap as billing_bootstrap
from billing_service.application.commands import OpenAccountCommand
from billing_service.application.queries import GetAccountQuery, ListInvoicesQuery
from cqrs_ddd_core.adapters.host.service import ServiceHost
from cqrs_ddd_core.adapters.memory.broker import Envelope, InMemoryBroker
from ordering_service import bootstrap as ordering_bootstrap
from ordering_service.application.commands import CreateOrderCommand, OrderItem
from ordering_service.application.queries import GetOrderQuery
from tests.bdd.cross_context.deployment import Carried, PlacedOrder
from tests.tokens import TEST_AUTH_SECRET


class EmbeddedDeployment:
    name = "embedded"
    # The bound of every "eventually": a passing step returns at its first true poll, so only a
    # failure waits this long - generous, as a shared 2-core machine can stall for seconds.
    patience = 30.0
    poll_interval = 0.01

    def __init__(
        self,
        broker: InMemoryBroker,
        ordering: ServiceHost,
        billing: ServiceHost,
    ) -> None:
        self.broker = broker
        self.ordering = ordering
        self.billing = billing
        self.merchant_account = billing.settings.merchant_account

    @classmethod
    async def start(cls) -> EmbeddedDeployment:
        broker = InMemoryBroker(redelivery_delay=0.01)
        ordering = ordering_bootstrap.build(
            ordering_bootstrap.OrderingSettings(
                database_url="memory", outbox_poll_interval=0.05, auth_secret=TEST_AUTH_SECRET
            ),
            broker=broker,
        )
        billing = billing_bootstrap.build(
            billing_bootstrap.BillingSettings(
                database_url="memory", outbox_poll_interval=0.05, auth_secret=TEST_AUTH_SECRET
            ),
            broker=broker,
        )
        await billing.start()  # first: it consumes what ordering publishes
        await ordering.start()
        return cls(broker, ordering, billing)

    async def stop(self) -> None:
        await self.ordering.stop()
        await self.billing.stop()
        await self.broker.stop()

    async def healthy(self) -> bool:
        reports = [await self.ordering.health(), await self.billing.health()]
        relaying = self.ordering.outbox.running and self.billing.outbox.running
        return relaying and all(report["status"] == "ok" for report in reports)

    async def open_account(self, account_id: str, balance: Decimal) -> None:
        await self.billing.mediator.send(OpenAccountCommand(account_id=account_id, balance=balance))

    async def place_order(self, customer_id: str, items: list[dict[str, Any]]) -> PlacedOrder:
        command = CreateOrderCommand(
            customer_id=customer_id, items=[OrderItem.model_validate(item) for item in items]
        )
        response = await self.ordering.mediator.send(command)
        return PlacedOrder(response.result, response.correlation_id)

    async def order(self, order_id: str) -> dict[str, Any]:
        order = (await self.ordering.mediator.send(GetOrderQuery(order_id=order_id))).result
        return dict(order.model_dump(mode="json"))

    async def invoices(self, order_id: str) -> list[dict[str, Any]]:
        invoices = (await self.billing.mediator.send(ListInvoicesQuery(order_id=order_id))).result
        return [invoice.model_dump(mode="json") for invoice in invoices]

    async def balance(self, account_id: str) -> Decimal:
        account = (await self.billing.mediator.send(GetAccountQuery(account_id=account_id))).result
        return Decimal(account.balance)

    async def notifications(self, service: str) -> list[dict[str, Any]]:
        log = {"ordering": self.ordering.notifications, "billing": self.billing.notifications}
        return list(log[service].received)

    async def carried(self) -> list[Carried]:
        await self.broker.drain()  # bounded: TimeoutError after 5 s
        return [_carried(envelope) for envelope in self.broker.published]

    async def deliver_again(self, message: Carried) -> None:
        original = message.original
        assert isinstance(original, Envelope), original
        await self.broker.publish(
            original.topic,
            original.payload,
            message_id=original.message_id,
            correlation_id=original.correlation_id,
            causation_id=original.causation_id,
            headers=original.headers,
        )
        await self.broker.drain()

    async def duplicates_acknowledged(self, message: Carried) -> int:
        # This pair of services lives for one scenario: every duplicate billing saw is its.
        return self.billing.consumers[0].duplicates

    async def dead_letters(self) -> list[str]:
        return [f"{letter.queue}: {letter.reason}" for letter in self.broker.dead_letters()]

    def diagnostics(self) -> str:
        return f"in-process broker carried {[e.topic for e in self.broker.published]}"


def _carried(envelope: Envelope) -> Carried:
    return Carried(
        topic=envelope.topic,
        message_id=envelope.message_id,
        correlation_id=envelope.correlation_id,
        body=envelope.body.encode(),
        original=envelope,
    )

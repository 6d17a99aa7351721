"""`Deployment`: what the cross-context scenarios need from "ordering and billing, running".

The scenarios of features/cross_context/order_payment.feature are written once, against this
small interface, and run twice: `EmbeddedDeployment` (embedded.py: both services in this
process, in-memory storage, one `InMemoryBroker`) and `ProcessesDeployment` (processes.py:
each service its own OS process with its own SQLite file, over the real RabbitMQ, driven over
HTTP). The one thing to notice: every answer has the shape of the services' HTTP API (the DTOs
dumped as JSON), so a step cannot tell which mode it runs in - only how long to wait.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    correlation_id: str | None
    """Known to an in-process caller (the mediator's response). The HTTP API does not return
    it: over HTTP the order's correlation id is the one its OrderCreated message carries."""


@dataclass(frozen=True)
class Carried:
    """A message as the broker carried it: topic, envelope properties and JSON body."""

    topic: str
    message_id: str | None
    correlation_id: str | None
    """The envelope's correlation id (the AMQP property over RabbitMQ)."""
    body: bytes
    original: object
    """What the deployment needs to put the very same message on the broker again."""

    @property
    def payload(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


class Deployment(Protocol):
    """Ordering and billing, running; the scenario's only way to reach them."""

    name: str
    patience: float
    """Seconds an "eventually" step waits before it fails."""
    poll_interval: float
    merchant_account: str
    """The account billing pays every invoice into."""

    async def healthy(self) -> bool:
        """Both services report their database and broker reachable."""
        ...

    async def open_account(self, account_id: str, balance: Decimal) -> None: ...

    async def place_order(self, customer_id: str, items: list[dict[str, Any]]) -> PlacedOrder:
        """``items``: ``POST /orders`` lines (``sku``, ``quantity``, ``unit_price``)."""
        ...

    async def order(self, order_id: str) -> dict[str, Any]:
        """``GET /orders/{order_id}``."""
        ...

    async def invoices(self, order_id: str) -> list[dict[str, Any]]:
        """``GET /invoices?order_id=``."""
        ...

    async def balance(self, account_id: str) -> Decimal:
        """The balance of ``GET /accounts/{account_id}``."""
        ...

    async def notifications(self, service: str) -> list[dict[str, Any]]:
        """``GET /notifications`` of ``service`` ("ordering" or "billing")."""
        ...

    async def carried(self) -> list[Carried]:
        """Every message the broker carried so far, oldest first."""
        ...

    async def deliver_again(self, message: Carried) -> None:
        """Put ``message`` on the broker once more: same body, id and properties."""
        ...

    async def duplicates_acknowledged(self, message: Carried) -> int:
        """How often billing acknowledged ``message`` as one it had processed already."""
        ...

    async def dead_letters(self) -> list[str]:
        """Every message a service gave up on, described (none, when all is well)."""
        ...

    def diagnostics(self) -> str:
        """What to show when a step times out (the services' logs, when they have any)."""
        ...

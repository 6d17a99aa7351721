"""A tiny domain for the persistence tests: counters and orders, their tables, repositories.

It is mapped the way a service maps its aggregates: `Counter` and `Order` know nothing of
SQLAlchemy; the repositories turn them into rows and back. The tables are created by this
directory's migration (``migrations/``), whose revision depends on the core branch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.engine import RowMapping

from cqrs_ddd_core.adapters.sqlalchemy.repository import SqlAlchemyRepository
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.domain.events import DomainEvent

TEST_VERSIONS = Path(__file__).with_name("migrations")

test_metadata = MetaData()

counters = Table(
    "counters",
    test_metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("value", Integer, nullable=False),
)

orders = Table(
    "orders",
    test_metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("total", Integer, nullable=False),
)


class CounterIncremented(DomainEvent):
    value: int


class Counter(AggregateRoot):
    def __init__(self, id: str, value: int = 0) -> None:
        super().__init__(id)
        self.value = value

    def increment(self) -> None:
        self.value += 1
        self.add_event(CounterIncremented(aggregate_id=self.id, value=self.value))


class OrderPlaced(DomainEvent):
    order_id: str
    total: int


class OrderTotalChanged(DomainEvent):
    order_id: str
    total: int


class Order(AggregateRoot):
    def __init__(self, id: str, customer_id: str, total: int) -> None:
        super().__init__(id)
        self.customer_id = customer_id
        self.total = total

    @classmethod
    def place(cls, order_id: str, customer_id: str, total: int) -> Order:
        order = cls(order_id, customer_id, total)
        order.add_event(OrderPlaced(aggregate_id=order_id, order_id=order_id, total=total))
        return order

    def change_total(self, total: int) -> None:
        self.total = total
        self.add_event(OrderTotalChanged(aggregate_id=self.id, order_id=self.id, total=total))


class CounterRepository(SqlAlchemyRepository[Counter]):
    table = counters

    def _to_row(self, aggregate: Counter) -> dict[str, Any]:
        return {"value": aggregate.value}

    def _from_row(self, row: RowMapping) -> Counter:
        return Counter(row["id"], row["value"])


class OrderRepository(SqlAlchemyRepository[Order]):
    table = orders

    def _to_row(self, aggregate: Order) -> dict[str, Any]:
        return {"customer_id": aggregate.customer_id, "total": aggregate.total}

    def _from_row(self, row: RowMapping) -> Order:
        return Order(row["id"], row["customer_id"], row["total"])


class ShopUnitOfWork(SqlAlchemyUnitOfWork):
    """What a service does: its unit of work exposes its repositories."""

    @property
    def counters(self) -> CounterRepository:
        return CounterRepository(self.session)

    @property
    def orders(self) -> OrderRepository:
        return OrderRepository(self.session)

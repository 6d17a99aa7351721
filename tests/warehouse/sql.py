"""The warehouse on a SQL database: its tables, repositories and unit of work.

It is mapped the way a service maps its aggregates: `Shelf` and `Shipment` know nothing of
SQLAlchemy; the repositories turn them into rows and back. The tables are created by this
package's migration (``migrations/``), whose revision depends on the core's branch, exactly
as a service's migrations do.

The thing to notice: ``warehouse_metadata`` only *describes* the tables (for the repositories
and for the check that the migration builds exactly them); the migration creates them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.engine import RowMapping

from cqrs_ddd_core.adapters.sqlalchemy.repository import SqlAlchemyRepository
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tests.warehouse.domain import Shelf, Shipment

WAREHOUSE_VERSIONS = Path(__file__).with_name("migrations")

warehouse_metadata = MetaData()

shelves = Table(
    "shelves",
    warehouse_metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),
)

shipments = Table(
    "shipments",
    warehouse_metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("supplier", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
)


class ShelfRepository(SqlAlchemyRepository[Shelf]):
    table = shelves

    def _to_row(self, aggregate: Shelf) -> dict[str, Any]:
        return {"quantity": aggregate.quantity}

    def _from_row(self, row: RowMapping) -> Shelf:
        return Shelf(row["id"], row["quantity"])


class ShipmentRepository(SqlAlchemyRepository[Shipment]):
    table = shipments

    def _to_row(self, aggregate: Shipment) -> dict[str, Any]:
        return {"supplier": aggregate.supplier, "quantity": aggregate.quantity}

    def _from_row(self, row: RowMapping) -> Shipment:
        return Shipment(row["id"], row["supplier"], row["quantity"])


class WarehouseSqlUnitOfWork(SqlAlchemyUnitOfWork):
    """What a service does: its unit of work exposes its repositories."""

    @property
    def shelves(self) -> ShelfRepository:
        return ShelfRepository(self.session)

    @property
    def shipments(self) -> ShipmentRepository:
        return ShipmentRepository(self.session)

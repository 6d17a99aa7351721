"""`SqlAlchemyRepository`: aggregates in rows, with an optimistic ``version`` column.

The aggregate is a plain class that knows nothing of SQLAlchemy; a concrete repository maps
it to and from a row of its table (`_to_row`, `_from_row`). The thing to notice is `save`:

    UPDATE orders SET ..., version = :v + 1 WHERE id = :id AND version = :v

If someone else saved the aggregate since we read it, the ``WHERE`` matches no row and we
raise `ConcurrencyError` instead of silently overwriting their change - never a lost update.
On PostgreSQL a concurrent writer's UPDATE waits for the first one's commit and then finds the
version moved; on SQLite the write lock taken at ``BEGIN IMMEDIATE`` serializes the two
transactions, so only a copy read in an *earlier* transaction can be stale there.

Scenario: features/core/unit_of_work.feature. Guide: docs/patterns/optimistic-concurrency.md.
"""

from __future__ import annotations

import builtins
import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Insert, Select, Table, Update, bindparam, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from cqrs_ddd_core.adapters.sqlalchemy.engine import insert_for
from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError, NotFoundError

A = TypeVar("A", bound=AggregateRoot)


class SqlAlchemyRepository(ABC, Generic[A]):
    """Aggregates of one kind in ``table``, which has an ``id`` primary key and a ``version``.

    A subclass sets ``table`` and implements `_to_row` (the other columns) and `_from_row`.
    """

    table: ClassVar[Table]

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._statements = statements_for(self.table, session.get_bind().dialect.name)

    @property
    def kind(self) -> str:
        """The aggregate kind named in errors (the table name)."""
        return self.table.name

    @abstractmethod
    def _to_row(self, aggregate: A) -> dict[str, Any]:
        """The aggregate's state as column values (without ``id`` and ``version``)."""

    @abstractmethod
    def _from_row(self, row: RowMapping) -> A:
        """Rebuild the aggregate from its row (``row["version"]`` is set on it afterwards)."""

    async def add(self, aggregate: A) -> None:
        """Insert a new aggregate at version 1; an existing id is a `ConcurrencyError`."""
        values = {**self._to_row(aggregate), "id": aggregate.id, "version": 1}
        result = await self._session.execute(self._statements.add, values)
        if _rowcount(result) != 1:
            raise ConcurrencyError(self.kind, aggregate.id, expected_version=0)
        aggregate.version = 1

    async def get(self, aggregate_id: str) -> A:
        """The aggregate, or `NotFoundError`."""
        found = await self.find(aggregate_id)
        if found is None:
            raise NotFoundError(self.kind, aggregate_id)
        return found

    async def find(self, aggregate_id: str) -> A | None:
        """The aggregate, or ``None`` when there is none with this id."""
        result = await self._session.execute(self._statements.find, {"key": aggregate_id})
        row = result.mappings().one_or_none()
        return None if row is None else self._load(row)

    async def save(self, aggregate: A) -> None:
        """Write the aggregate's new state, if nobody changed it since it was read."""
        read_version = aggregate.version
        values = {**self._to_row(aggregate), "version": read_version + 1}
        result = await self._session.execute(
            self._statements.save, {**values, "key": aggregate.id, "read_version": read_version}
        )
        if _rowcount(result) != 1:
            raise ConcurrencyError(self.kind, aggregate.id, expected_version=read_version)
        aggregate.version = read_version + 1

    async def list(self, *where: ColumnElement[bool]) -> builtins.list[A]:
        """Every aggregate matching the conditions (all of them without any), by id."""
        result = await self._session.execute(
            select(self.table).where(*where).order_by(self.table.c.id)
        )
        return [self._load(row) for row in result.mappings()]

    def _load(self, row: RowMapping) -> A:
        aggregate = self._from_row(row)
        aggregate.version = row["version"]
        return aggregate


# --8<-- [start:statements]
@dataclass(frozen=True)
class RepositoryStatements:
    """A repository's statements, built once per table and dialect.

    Why: building ``select(table).where(...)`` is most of what a statement costs SQLAlchemy -
    the expression objects, then the cache key it computes to find the compiled SQL. A
    statement built once keeps its cache key; each call only binds its values (``:key``,
    ``:read_version``; ``save`` sets the columns its values name).
    """

    find: Select[Any]
    add: Insert
    save: Update


@functools.cache
def statements_for(table: Table, dialect: str) -> RepositoryStatements:
    """The statements of ``table`` on ``dialect`` (``"postgresql"`` or ``"sqlite"``)."""
    insert = insert_for(dialect)
    return RepositoryStatements(
        find=select(table).where(table.c.id == bindparam("key")),
        # ON CONFLICT DO NOTHING: a duplicate id leaves the transaction usable (on PostgreSQL
        # a failed INSERT would abort it) and tells us through the row count.
        add=insert(table).on_conflict_do_nothing(),
        save=update(table).where(
            table.c.id == bindparam("key"), table.c.version == bindparam("read_version")
        ),
    )
    # --8<-- [end:statements]


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count

"""The ambient unit of work: where a handler's ``get_current_uow()`` gets its answer.

The mediator opens a `UnitOfWorkScope` for each root command or query and makes it current
in a context variable; handlers, middleware, outbox and inbox storages read it through
``get_current_uow()``. This module is the whole mechanism, so a reader can find where a
handler's unit of work comes from in one jump. The things to notice:

* A scope belongs to the **task** that opened it. Context variables are copied into tasks
  spawned inside a handler, so without the owner check such a task would write into its
  parent's transaction - and keep writing after the parent committed. There it reads ``None``.
* ``with scope:`` sets the variable and resets it on the way out, errors included, and
  closes the scope for good: code that kept a copy of the context cannot join a finished
  transaction.
* Once the unit of work has committed or rolled back (its ``on_commit`` and ``on_close``
  callbacks run then), a command sent is a root of its own, not a nested one.

Scenarios: features/core/mediator.feature, features/core/nested_commands.feature.
Guide: docs/components/mediator.md#the-unit-of-work-scope.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.context import get_correlation_id

__all__ = [
    "UnitOfWorkScope",
    "active_scope",
    "get_current_session_id",
    "get_current_uow",
    "unit_of_work_scope",
]


# --8<-- [start:scope]
@dataclass
class UnitOfWorkScope:
    """The unit of work of one root message, and who may use it.

    ``with scope:`` makes it current for the code awaited inside, and closes it on the way
    out - even for tasks spawned inside that still hold a copy of the context.
    """

    uow: UnitOfWork
    owner: asyncio.Task[Any] | None
    session_id: str
    """The re-entrancy key for locks taken on the root's behalf: a root command's id, or a fresh
    id for each handling of a consumed message."""
    correlation_id: str
    read_only: bool
    open: bool = True
    _token: Token[UnitOfWorkScope | None] | None = field(default=None, repr=False)

    @classmethod
    def for_this_task(
        cls, uow: UnitOfWork, *, session_id: str, correlation_id: str, read_only: bool
    ) -> UnitOfWorkScope:
        """A scope owned by the task running now."""
        return cls(uow, _current_task(), session_id, correlation_id, read_only)

    def __enter__(self) -> UnitOfWorkScope:
        self._token = _current_scope.set(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.open = False
        if self._token is not None:
            _current_scope.reset(self._token)


_current_scope: ContextVar[UnitOfWorkScope | None] = ContextVar("cqrs_ddd_scope", default=None)


def active_scope() -> UnitOfWorkScope | None:
    """The scope this code may join: open, opened by the current task, its unit of work active."""
    scope = _current_scope.get()
    if (
        scope is None
        or not scope.open
        or scope.owner is not _current_task()
        or not scope.uow.is_active
    ):
        return None
    return scope


def get_current_uow() -> Any:
    """The unit of work of the command or query being handled, or ``None`` outside one.

    Typed ``Any`` so service code can write ``get_current_uow().orders`` against its own
    unit of work subclass.
    """
    scope = active_scope()
    return scope.uow if scope is not None else None


def get_current_session_id() -> str | None:
    """The id of the root message being handled: locks taken for it re-enter under this key."""
    scope = active_scope()
    return scope.session_id if scope is not None else None
    # --8<-- [end:scope]


def unit_of_work_scope(
    uow: UnitOfWork, *, session_id: str, correlation_id: str | None = None
) -> UnitOfWorkScope:
    """``with unit_of_work_scope(uow, ...):`` makes an entered ``uow`` current, as a root does.

    For code that owns a transaction outside the mediator - a consumer that must commit an
    event's effects with its inbox record: commands sent inside join ``uow`` as nested
    commands, and ``get_current_uow()`` returns it. The caller commits it.
    """
    return UnitOfWorkScope.for_this_task(
        uow,
        session_id=session_id,
        correlation_id=correlation_id or get_correlation_id() or session_id,
        read_only=False,
    )


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop
        return None

"""`LockingMiddleware`: a command's critical resources are held until its transaction ends.

A command that names resources in ``get_critical_resources()`` runs inside a `CriticalSection`
over them. Two things to notice:

* The locks are released from ``uow.on_close``, after the root command's commit or rollback -
  not when the handler returns. Releasing earlier would let the next transfer read a balance
  this one has changed but not yet committed, and overwrite it (a lost update).
* The re-entrancy key is the **root** command's id (`get_current_session_id`), never the
  correlation id: a nested command may lock what its parent holds, while an unrelated command
  of the same story - sent from a task of its own, say - still waits.

If a lock cannot be taken the handler never runs and `LockAcquisitionError` propagates.
Queries pass through. Scenario: features/core/transfer_funds.feature.
Guide: docs/components/critical-section.md.
"""

from __future__ import annotations

from typing import Any

from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.concurrency import DEFAULT_TIMEOUT, DEFAULT_TTL, CriticalSection
from cqrs_ddd_core.cqrs.scope import get_current_session_id, get_current_uow
from cqrs_ddd_core.middleware.registry import Next
from cqrs_ddd_core.observability.metrics import lock_timer
from cqrs_ddd_core.observability.tracing import lock_wait
from cqrs_ddd_core.ports.locking import ILockStrategy


class LockingMiddleware:
    """Runs each command that has critical resources inside a `CriticalSection` over them."""

    def __init__(
        self,
        lock_strategy: ILockStrategy,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        ttl: float = DEFAULT_TTL,
    ) -> None:
        self._lock_strategy = lock_strategy
        self._timeout = timeout
        self._ttl = ttl

    async def __call__(self, message: Any, next: Next) -> Any:
        if not isinstance(message, Command):
            return await next(message)
        resources = message.get_critical_resources()
        if not resources:
            return await next(message)
        section = CriticalSection(
            resources,
            self._lock_strategy,
            timeout=self._timeout,
            ttl=self._ttl,
            session_id=get_current_session_id(),
        )
        uow = get_current_uow()
        if uow is None:  # called outside a mediator's unit of work: hold around the handler
            async with section:
                return await next(message)
        with lock_wait(resources), lock_timer():
            await section.acquire()  # raises before the handler runs when a lock is not free
        try:
            uow.on_close(section.release)  # held until the root's commit or rollback is done
        except BaseException:
            await section.release()
            raise
        return await next(message)

"""`EventDispatcher`: delivers a domain event to every in-process handler registered for it.

Handlers run one after another in priority order (lower first; ties keep registration
order), awaited in the caller's task - so inside a command they run in its transaction, and a
nested command they send joins its unit of work. A failing handler is retried with
exponential backoff (each attempt in a savepoint, so a failed attempt's writes are undone
before the next), then its error surfaces (and rolls the command back). The backoff waits
with the transaction and its locks held: keep retries few and short. Hooks let tests and
instrumentation observe each call.

A dispatcher has its handlers from one place: its own ``register`` (the standalone use, and a
consumer's), or the ``handler_registry`` it was built with (the mediator's). Registering on a
dispatcher that reads a registry is an error: the handler belongs in that registry.
Guide: docs/components/event-dispatcher.md.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cqrs_ddd_core.cqrs.registry import HandlerRegistration, HandlerRegistry
from cqrs_ddd_core.cqrs.scope import get_current_uow
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.primitives.context import get_correlation_id, message_context
from cqrs_ddd_core.primitives.exceptions import HandlerWiringError

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=DomainEvent)

BeforeHook = Callable[[DomainEvent, Any], None]
AfterHook = Callable[[DomainEvent, Any], None]
ErrorHook = Callable[[DomainEvent, Any, BaseException, int], None]
"""Called as ``hook(event, handler, error, attempt)``; ``attempt`` counts from 1."""


@dataclass(frozen=True)
class _Entry:
    registration: HandlerRegistration
    priority: int
    order: int


class EventDispatcher(Generic[E]):
    """Event dispatcher with priorities, retry and instrumentation hooks.

    ``max_retries`` is the number of extra attempts for a failing handler; the delay before
    attempt *n* is ``retry_delay * 2**(n-1)``, capped at ``max_retry_delay``. A dispatcher
    built with ``handler_registry`` calls the event handlers registered there, and only those.
    """

    def __init__(
        self,
        *,
        max_retries: int = 0,
        retry_delay: float = 0.05,
        max_retry_delay: float = 2.0,
        handler_registry: HandlerRegistry | None = None,
    ) -> None:
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self._handler_registry = handler_registry
        self._entries: dict[type, list[_Entry]] = {}
        self._count = 0
        self._before: list[BeforeHook] = []
        self._after: list[AfterHook] = []
        self._error: list[ErrorHook] = []

    @property
    def handler_registry(self) -> HandlerRegistry | None:
        """The registry this dispatcher takes its handlers from, if it was built with one."""
        return self._handler_registry

    # --8<-- [start:register]
    def register(self, event_type: type[E], handler: Any, *, priority: int = 0) -> None:
        """Register a handler (an object with ``async handle(event)``, or an async callable)."""
        if self._handler_registry is not None:
            raise HandlerWiringError(
                f"This EventDispatcher takes its handlers from its HandlerRegistry; register "
                f"{_name(handler)} there: registry.register_event_handler("
                f"{event_type.__name__}, handler)"
            )
        self._count += 1
        entry = _Entry(HandlerRegistration(handler), priority, self._count)
        self._entries.setdefault(event_type, []).append(entry)
        # --8<-- [end:register]

    def add_hooks(
        self,
        *,
        before: BeforeHook | None = None,
        after: AfterHook | None = None,
        on_error: ErrorHook | None = None,
    ) -> None:
        """Observe every handler call: before it, after it succeeded, and on each failure."""
        if before is not None:
            self._before.append(before)
        if after is not None:
            self._after.append(after)
        if on_error is not None:
            self._error.append(on_error)

    # --8<-- [start:dispatch]
    def handlers_for(self, event_type: type) -> list[Any]:
        """Ready handlers for ``event_type`` (and its base classes), in call order."""
        if self._handler_registry is not None:
            return self._handler_registry.get_event_handlers(event_type)
        entries = [e for cls in event_type.__mro__ for e in self._entries.get(cls, ())]
        entries.sort(key=lambda e: (e.priority, e.order))
        return [e.registration.resolve() for e in entries]

    async def dispatch(self, event: E) -> None:
        """Call every handler of ``event``; the first error that outlives its retries raises."""
        # Whatever a handler sends is caused by this event and belongs to the same story.
        correlation_id = event.correlation_id or get_correlation_id()
        with message_context(correlation_id, event.event_id):
            for handler in self.handlers_for(type(event)):
                await self._call_with_retry(handler, event)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...)."""
        return float(min(self.retry_delay * 2 ** (attempt - 1), self.max_retry_delay))

    async def _call_with_retry(self, handler: Any, event: E) -> None:
        attempt = 0
        while True:
            attempt += 1
            _notify(self._before, event, handler)
            try:
                if self.max_retries:
                    await _invoke_undoably(handler, event)
                else:
                    await _invoke(handler, event)
            except Exception as exc:
                for hook in self._error:
                    _safe(hook, event, handler, exc, attempt)
                if attempt > self.max_retries:
                    raise
                delay = self.backoff(attempt)
                logger.warning(
                    "%s failed on %s (attempt %d), retrying in %.3fs: %s",
                    _name(handler),
                    event.type_name(),
                    attempt,
                    delay,
                    exc,
                )
                await asyncio.sleep(delay)
            else:
                _notify(self._after, event, handler)
                return
                # --8<-- [end:dispatch]


async def _invoke(handler: Any, event: DomainEvent) -> None:
    method = getattr(handler, "handle", handler)
    result = method(event)
    if inspect.isawaitable(result):
        await result


async def _invoke_undoably(handler: Any, event: DomainEvent) -> None:
    """`_invoke` inside a savepoint of the current unit of work, if there is one: a retried
    attempt must not find the writes of the attempt that failed."""
    uow = get_current_uow()
    if uow is None:
        await _invoke(handler, event)
        return
    async with uow.savepoint():
        await _invoke(handler, event)


def _notify(hooks: list[Callable[[DomainEvent, Any], None]], event: DomainEvent, h: Any) -> None:
    for hook in hooks:
        _safe(hook, event, h)


def _safe(hook: Callable[..., None], *args: Any) -> None:
    # Instrumentation must never change the outcome of a dispatch.
    try:
        hook(*args)
    except Exception:
        logger.exception("event dispatcher hook %r failed", hook)


def _name(handler: Any) -> str:
    return getattr(handler, "__qualname__", type(handler).__qualname__)

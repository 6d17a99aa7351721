"""`Mediator`: the one entry point for commands and queries, and the owner of the unit of work.

Read `send` top to bottom: resolve root or nested -> pipeline (middleware around the handler)
-> in-process events -> commit. The things to notice:

* A **root** command opens one unit of work; every **nested** command sent while handling it
  (from the handler, its middleware or an in-process event handler) reuses it inside a
  savepoint, and only the root commits - once. An exception that escapes rolls everything back.
* The scope lives in a context variable (`cqrs/scope.py`) and belongs to the task that opened
  it. A task spawned inside a handler does not join that unit of work: its commands run as
  roots of their own (same correlation id, own transaction). ``get_current_uow()`` is ``None``
  there, and ``None`` again once the root has ended.
* Correlation: a root keeps its ``correlation_id`` or starts one; nested commands and every
  event inherit it, and each message's ``causation_id`` is its direct parent's id.

Scenarios: features/core/mediator.feature, features/core/nested_commands.feature.
Guide: docs/components/mediator.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.event_dispatcher import EventDispatcher
from cqrs_ddd_core.cqrs.pipeline import MiddlewareRegistry
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse, QueryResponse
from cqrs_ddd_core.cqrs.scope import UnitOfWorkScope, active_scope, get_current_uow
from cqrs_ddd_core.domain.events import DomainEvent
from cqrs_ddd_core.observability.messages import observed
from cqrs_ddd_core.observability.tracing import message_span, note
from cqrs_ddd_core.ports.bus import ICommandBus, IQueryBus
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.context import get_causation_id, get_correlation_id, message_context
from cqrs_ddd_core.primitives.exceptions import HandlerWiringError, UnitOfWorkError

__all__ = [
    "Mediator",
    # The unit-of-work scope lives in cqrs/scope.py; docs/reference/mediator.md imports it here.
    "get_current_uow",
]

T = TypeVar("T")
Pipeline = Callable[[Any], Awaitable[Any]]


class _NestedFailure(Exception):
    """Carries a nested ``success=False`` response out of its savepoint, undoing its writes."""

    def __init__(self, response: CommandResponse[Any]) -> None:
        self.response = response


class Mediator(ICommandBus, IQueryBus):
    """Central dispatch with a context-variable unit-of-work scope."""

    # --8<-- [start:init]
    def __init__(
        self,
        registry: HandlerRegistry,
        uow_factory: Callable[..., UnitOfWork],
        *,
        middleware_registry: MiddlewareRegistry | None = None,
        event_dispatcher: EventDispatcher[Any] | None = None,
    ) -> None:
        self._registry = registry
        self._uow_factory = uow_factory
        # "is None", not "or": an empty registry is falsy but may be filled in later.
        if middleware_registry is None:
            middleware_registry = MiddlewareRegistry()
        self._middleware = middleware_registry
        self._event_dispatcher = _event_dispatcher_for(registry, event_dispatcher)
        self._pipelines: dict[type, Pipeline] = {}
        self._pipelines_version = self._middleware.version
        # --8<-- [end:init]

    @overload
    async def send(self, message: Command[T]) -> CommandResponse[T]: ...

    @overload
    async def send(self, message: Query[T]) -> QueryResponse[T]: ...

    # --8<-- [start:send]
    async def send(self, message: Any) -> Any:
        """Dispatch a command or a query, by its type, and return its response."""
        if isinstance(message, Command):
            scope = active_scope()
            if scope is None:
                return await self._send_root_command(message)
            return await self._send_nested_command(message, scope)
        if isinstance(message, Query):
            return await self._send_query(message)
        raise TypeError(f"Mediator.send takes a Command or a Query, got {type(message).__name__}")
        # --8<-- [end:send]

    # --- commands ------------------------------------------------------------------------

    # --8<-- [start:root]
    async def _send_root_command(self, command: Command[Any]) -> CommandResponse[Any]:
        # A new story is named after its first message: no second uuid4 per root command.
        correlation_id = command.correlation_id or get_correlation_id() or command.command_id
        command = _with_ids(command, correlation_id, command.causation_id)
        uow = self._uow_factory()
        scope = UnitOfWorkScope.for_this_task(
            uow, session_id=command.command_id, correlation_id=correlation_id, read_only=False
        )
        with scope:
            async with uow:
                response = await self._handle_command(command)
                if response.success:
                    await uow.commit()
                else:
                    await uow.rollback()
        return response
        # --8<-- [end:root]

    # --8<-- [start:nested]
    async def _send_nested_command(
        self, command: Command[Any], scope: UnitOfWorkScope
    ) -> CommandResponse[Any]:
        if scope.read_only:
            raise UnitOfWorkError(
                f"{type(command).__name__} was sent while handling a query; queries are "
                f"read-only and never send commands"
            )
        command = _with_ids(command, scope.correlation_id, get_causation_id())
        try:
            async with scope.uow.savepoint():
                response = await self._handle_command(command)
                if not response.success:
                    raise _NestedFailure(response)
        except _NestedFailure as failure:
            return failure.response
        return response
        # --8<-- [end:nested]

    # --8<-- [start:handle-command]
    async def _handle_command(self, command: Command[Any]) -> CommandResponse[Any]:
        # The span is entered inside the context: a nested command's span is its parent's child.
        with message_context(command.correlation_id, command.command_id), observed(command):
            response: CommandResponse[Any] = await self._pipeline(type(command))(command)
            if response.success:
                for event in response.events:
                    await self._event_dispatcher.dispatch(event)
            else:
                note("cqrs.success", False)
        return response
        # --8<-- [end:handle-command]

    # --8<-- [start:call-handler]
    async def _call_command_handler(self, command: Command[Any]) -> CommandResponse[Any]:
        handler = self._registry.get_command_handler(type(command))
        response = await handler.handle(command)
        return _stamp_command_response(response, command)
        # --8<-- [end:call-handler]

    # --- queries -------------------------------------------------------------------------

    # --8<-- [start:query]
    async def _send_query(self, query: Query[Any]) -> QueryResponse[Any]:
        scope = active_scope()
        if scope is not None:  # a query inside a command reads through its transaction
            return await self._handle_query(_with_ids(query, scope.correlation_id, None))
        correlation_id = query.correlation_id or get_correlation_id() or query.query_id
        query = _with_ids(query, correlation_id, None)
        uow = self._uow_factory()
        uow.read_only = True
        scope = UnitOfWorkScope.for_this_task(
            uow, session_id=query.query_id, correlation_id=correlation_id, read_only=True
        )
        with scope:
            async with uow:  # never committed: leaving the block rolls back
                return await self._handle_query(query)
            # --8<-- [end:query]

    async def _handle_query(self, query: Query[Any]) -> QueryResponse[Any]:
        with message_context(query.correlation_id, query.query_id), message_span(query):
            response: QueryResponse[Any] = await self._pipeline(type(query))(query)
        return response

    async def _call_query_handler(self, query: Query[Any]) -> QueryResponse[Any]:
        handler = self._registry.get_query_handler(type(query))
        response: QueryResponse[Any] = await handler.handle(query)
        return dataclasses.replace(
            response, correlation_id=query.correlation_id, causation_id=query.query_id
        )

    # --- the middleware pipeline, built once per message type ----------------------------

    # --8<-- [start:pipeline]
    def _pipeline(self, message_type: type) -> Pipeline:
        if self._pipelines_version != self._middleware.version:
            self._pipelines.clear()
            self._pipelines_version = self._middleware.version
        pipeline = self._pipelines.get(message_type)
        if pipeline is None:
            pipeline = self._build_pipeline(message_type)
            self._pipelines[message_type] = pipeline
        return pipeline

    def _build_pipeline(self, message_type: type) -> Pipeline:
        call: Pipeline = (
            self._call_command_handler
            if issubclass(message_type, Command)
            else self._call_query_handler
        )
        for middleware in reversed(self._middleware.middlewares()):
            call = _wrap(middleware, call)
        return call


def _wrap(middleware: Callable[[Any, Pipeline], Awaitable[Any]], next_call: Pipeline) -> Pipeline:
    # A plain function handing back the middleware's coroutine: one frame per layer, not two.
    def call(message: Any) -> Awaitable[Any]:
        return middleware(message, next_call)

    return call
    # --8<-- [end:pipeline]


# --8<-- [start:event-dispatcher]
def _event_dispatcher_for(
    registry: HandlerRegistry, dispatcher: EventDispatcher[Any] | None
) -> EventDispatcher[Any]:
    """The dispatcher of in-process events: its handlers are the registry's, and only those."""
    if dispatcher is None:
        return EventDispatcher(handler_registry=registry)
    if dispatcher.handler_registry is not registry:
        # Otherwise the handlers registered on one of the two would silently never run.
        raise HandlerWiringError(
            "Mediator takes its event handlers from its HandlerRegistry, and this "
            "EventDispatcher does not read that registry. Register event handlers with "
            "registry.register_event_handler(...) and leave event_dispatcher out, or pass "
            "EventDispatcher(handler_registry=registry, ...) for retries and hooks"
        )
    return dispatcher
    # --8<-- [end:event-dispatcher]


M = TypeVar("M", Command[Any], Query[Any])


# --8<-- [start:stamp]
def _with_ids(message: M, correlation_id: str, causation_id: str | None) -> M:
    """The message with the story's ids (a copy only when something changes)."""
    update: dict[str, Any] = {}
    if message.correlation_id != correlation_id:
        update["correlation_id"] = correlation_id
    if causation_id is not None and message.causation_id is None:
        update["causation_id"] = causation_id
    return message.model_copy(update=update) if update else message


def _stamp_command_response(
    response: CommandResponse[Any], command: Command[Any]
) -> CommandResponse[Any]:
    """Every event belongs to the command's story and was caused by the command."""
    events = response.events
    if events:
        events = [_stamp_event(event, command) for event in events]
    # Built directly: dataclasses.replace() re-reads the fields on every call (~1 µs).
    return CommandResponse(
        result=response.result,
        events=events,
        success=response.success,
        correlation_id=command.correlation_id,
        causation_id=command.command_id,
    )


def _stamp_event(event: DomainEvent, command: Command[Any]) -> DomainEvent:
    if event.correlation_id == command.correlation_id and event.causation_id == command.command_id:
        return event
    return event.model_copy(
        update={"correlation_id": command.correlation_id, "causation_id": command.command_id}
    )

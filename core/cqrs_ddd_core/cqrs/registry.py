"""`HandlerRegistry`: which handler answers which message type.

Registration takes what the spec's examples pass: a handler **instance**, a handler **class**
(instantiated for each message) or a zero-argument **factory** (called for each message -
the place for dependency injection). One command or query type has exactly one handler
*class*: registering another class for it is an error, while registering the same class in
another form (say, a factory annotated ``-> CreateOrderHandler`` after an instance of it)
replaces how that handler is built. An event type may have many handlers.
Guide: docs/components/registry.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from cqrs_ddd_core.primitives.exceptions import HandlerAlreadyRegisteredError, HandlerNotFoundError

HandlerSource = Any
"""A handler instance, a handler class, or a zero-argument factory returning a handler."""


# --8<-- [start:registration]
@dataclass(frozen=True)
class HandlerRegistration:
    """One registration, kept as given so a consumer can re-wire classes with its own factory."""

    source: HandlerSource
    is_class: bool = field(init=False)
    is_factory: bool = field(init=False)

    def __post_init__(self) -> None:
        # Decided once here, not on every message: resolve() runs on every send.
        is_class = inspect.isclass(self.source)
        # A factory is a callable that is neither a class nor a handler itself: it takes no
        # argument, where a handler function (or callable object) takes the message.
        is_factory = (
            not is_class
            and callable(self.source)
            and not hasattr(self.source, "handle")
            and _takes_no_arguments(self.source)
        )
        object.__setattr__(self, "is_class", is_class)
        object.__setattr__(self, "is_factory", is_factory)

    @property
    def handler_class(self) -> type | None:
        """The class of the handlers this registration produces, when it can be known."""
        if self.is_class:
            return self.source  # type: ignore[no-any-return]
        if self.is_factory:
            return _declared_return_type(self.source)
        return type(self.source)

    def resolve(self) -> Any:
        """The handler to call now: the instance, a new instance, or the factory's product."""
        if self.is_class or self.is_factory:
            return self.source()
        return self.source
        # --8<-- [end:registration]


def _takes_no_arguments(source: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(source).parameters.values()
    except (TypeError, ValueError):  # no signature to read (some builtins): not a factory
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters
    )


# --8<-- [start:registry]
class HandlerRegistry:
    """Maps command, query and event types to their handlers."""

    def __init__(self) -> None:
        self._command_handlers: dict[type, HandlerRegistration] = {}
        self._query_handlers: dict[type, HandlerRegistration] = {}
        self._event_handlers: dict[type, list[HandlerRegistration]] = {}

    def register_command_handler(self, command_type: type, handler: HandlerSource) -> None:
        _register_single(self._command_handlers, command_type, handler)

    def register_query_handler(self, query_type: type, handler: HandlerSource) -> None:
        _register_single(self._query_handlers, query_type, handler)

    def register_event_handler(self, event_type: type, handler: HandlerSource) -> None:
        registrations = self._event_handlers.setdefault(event_type, [])
        if all(r.source is not handler for r in registrations):
            registrations.append(HandlerRegistration(handler))

    def get_command_handler(self, command_type: type) -> Any:
        """A ready handler for ``command_type``; raises `HandlerNotFoundError`."""
        return _lookup(self._command_handlers, command_type).resolve()

    def get_query_handler(self, query_type: type) -> Any:
        """A ready handler for ``query_type``; raises `HandlerNotFoundError`."""
        return _lookup(self._query_handlers, query_type).resolve()

    def has_command_handler(self, command_type: type) -> bool:
        return command_type in self._command_handlers

    def has_query_handler(self, query_type: type) -> bool:
        return query_type in self._query_handlers

    def get_event_registrations(self, event_type: type) -> list[HandlerRegistration]:
        """The registrations for exactly ``event_type`` (in registration order)."""
        return list(self._event_handlers.get(event_type, ()))

    def get_event_handlers(self, event_type: type) -> list[Any]:
        """Ready handlers for ``event_type`` and for its base classes."""
        return [
            registration.resolve()
            for cls in event_type.__mro__
            for registration in self._event_handlers.get(cls, ())
        ]

    def event_types(self) -> list[type]:
        return list(self._event_handlers)


def _register_single(
    table: dict[type, HandlerRegistration], message_type: type, handler: HandlerSource
) -> None:
    new = HandlerRegistration(handler)
    existing = table.get(message_type)
    if existing is not None and existing.source is not handler:
        same_class = existing.handler_class is not None and (
            existing.handler_class is new.handler_class
        )
        if not same_class:
            raise HandlerAlreadyRegisteredError(message_type)
    table[message_type] = new


def _declared_return_type(factory: Callable[..., Any]) -> type | None:
    """The class a factory says it returns (``def f() -> Handler``), or ``None``."""
    try:
        declared = get_type_hints(factory).get("return")
    except Exception:  # unresolvable annotations: then we simply do not know
        return None
    return declared if inspect.isclass(declared) else None


def _lookup(table: dict[type, HandlerRegistration], message_type: type) -> HandlerRegistration:
    try:
        return table[message_type]
    except KeyError:
        raise HandlerNotFoundError(message_type) from None

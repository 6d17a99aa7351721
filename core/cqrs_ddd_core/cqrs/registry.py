"""`HandlerRegistry`: which handler answers which message type.

Registration takes the forms docs/reference/handlers.md lists: an **instance**, a handler **class**
(instantiated for each message) or a zero-argument **factory** (called for each message -
the place for dependency injection). One command or query type has exactly one handler
*class*. Registering it again in another form (a factory after an instance of it, say)
replaces how that handler is built; registering an instance or a class of another class is
an error naming what is registered. The thing to notice: a factory's class is never guessed
from its return annotation - a lambda and an annotated function are treated alike. A factory
that replaces a handler of a known class is checked each time it builds one.
An event type may have many handlers.
Guide: docs/components/registry.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cqrs_ddd_core.primitives.exceptions import HandlerAlreadyRegisteredError, HandlerNotFoundError

HandlerSource = Any
"""A handler instance, a handler class, or a zero-argument factory returning a handler."""


# --8<-- [start:registration]
@dataclass(frozen=True)
class HandlerRegistration:
    """One registration, kept as given so a consumer can re-wire classes with its own factory."""

    source: HandlerSource
    replaces: type | None = None
    """For a factory registered over a handler of a known class: the class it must build."""
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
        """The class of the handlers this registration produces, when known without building."""
        if self.is_class:
            return self.source  # type: ignore[no-any-return]
        if self.is_factory:
            return self.replaces
        return type(self.source)

    def describe(self) -> str:
        """What was registered, in words an error message can use."""
        if self.is_class:
            return f"the class {self.source.__qualname__}"
        name = getattr(self.source, "__qualname__", repr(self.source))
        if self.is_factory:
            return f"the factory {name}"
        if inspect.isroutine(self.source):
            return f"the function {name}"
        return f"an instance of {type(self.source).__qualname__}"

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
        return _resolve(self._command_handlers, command_type)

    def get_query_handler(self, query_type: type) -> Any:
        """A ready handler for ``query_type``; raises `HandlerNotFoundError`."""
        return _resolve(self._query_handlers, query_type)

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
        known = existing.handler_class
        if new.is_factory:  # what it builds is known only when it builds: checked then
            new = HandlerRegistration(handler, replaces=known)
        elif known is not None and new.handler_class is not known:
            raise HandlerAlreadyRegisteredError(message_type, existing.describe())
    table[message_type] = new


def _resolve(table: dict[type, HandlerRegistration], message_type: type) -> Any:
    # Runs on every send: a dictionary read, not a try/except around a helper.
    registration = table.get(message_type)
    if registration is None:
        raise HandlerNotFoundError(message_type)
    handler = registration.resolve()
    if registration.replaces is not None and type(handler) is not registration.replaces:
        raise HandlerAlreadyRegisteredError(
            message_type,
            f"{registration.replaces.__qualname__}, which {registration.describe()} replaced "
            f"but built a {type(handler).__qualname__}",
        )
    return handler

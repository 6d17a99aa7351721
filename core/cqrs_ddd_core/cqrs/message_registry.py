"""`MessageRegistry`: from a type name and a stored payload back to a typed command or query.

Registration is explicit: only the names you register can be rebuilt, so a payload from a
queue can never instantiate an arbitrary class. ``hydrate_command``/``hydrate_query`` return
``None`` for an unknown name (docs/reference/message-registry.md: ``if command:``); ``hydrate``
raises `UnknownMessageTypeError` instead. A known name with a bad payload always raises
`MessageHydrationError` naming the fields. Guide: docs/components/message-registry.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic

from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.query import Query
from cqrs_ddd_core.primitives.exceptions import MessageHydrationError, UnknownMessageTypeError

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=pydantic.BaseModel)

HydrationHook = Callable[[str, str, dict[str, Any]], None]
"""Called as ``hook(kind, type_name, payload)`` with kind ``"command"`` or ``"query"``."""


class MessageRegistry:
    """Maps message type names to `Command` and `Query` classes."""

    def __init__(self) -> None:
        self._commands: dict[str, type[Command[Any]]] = {}
        self._queries: dict[str, type[Query[Any]]] = {}
        self._hooks: list[HydrationHook] = []

    def register_command(self, name: str, command_class: type[Command[Any]]) -> None:
        _register(self._commands, name, command_class, "command")

    def register_query(self, name: str, query_class: type[Query[Any]]) -> None:
        _register(self._queries, name, query_class, "query")

    def has_command(self, name: str) -> bool:
        return name in self._commands

    def has_query(self, name: str) -> bool:
        return name in self._queries

    def add_hook(self, hook: HydrationHook) -> None:
        """Instrumentation: ``hook`` is told of every successful hydration."""
        self._hooks.append(hook)

    # --8<-- [start:hydrate]
    def hydrate_command(self, name: str, payload: dict[str, Any]) -> Command[Any] | None:
        """The registered command built from ``payload``, or ``None`` for an unknown name."""
        command_class = self._commands.get(name)
        if command_class is None:
            return None
        return self._build("command", name, command_class, payload)

    def hydrate_query(self, name: str, payload: dict[str, Any]) -> Query[Any] | None:
        """The registered query built from ``payload``, or ``None`` for an unknown name."""
        query_class = self._queries.get(name)
        if query_class is None:
            return None
        return self._build("query", name, query_class, payload)

    def hydrate(self, name: str, payload: dict[str, Any]) -> Command[Any] | Query[Any]:
        """A command or query for ``name``; raises `UnknownMessageTypeError` if neither."""
        message = self.hydrate_command(name, payload) or self.hydrate_query(name, payload)
        if message is None:
            raise UnknownMessageTypeError(name, kind="command or query")
        return message
        # --8<-- [end:hydrate]

    def _build(self, kind: str, name: str, message_class: type[M], payload: dict[str, Any]) -> M:
        try:
            message = message_class.model_validate(payload)
        except pydantic.ValidationError as exc:
            raise MessageHydrationError.from_pydantic(name, exc) from exc
        for hook in self._hooks:
            try:
                hook(kind, name, payload)
            except Exception:
                logger.exception("message registry hook %r failed", hook)
        return message


def _register(table: dict[str, Any], name: str, message_class: type, kind: str) -> None:
    existing = table.get(name)
    if existing is not None and existing is not message_class:
        raise ValueError(f"The {kind} name {name!r} is already registered to {existing.__name__}")
    table[name] = message_class

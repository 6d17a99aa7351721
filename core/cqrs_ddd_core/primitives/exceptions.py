"""The exception hierarchy of the core.

Every error names the thing it is about (the message type, the resource, the field) and,
where there is one, the way out - a reader should be able to act on the message alone.
"""

from __future__ import annotations

from typing import Any

import pydantic


class CQRSDDDError(Exception):
    """Base class of every error raised by `cqrs_ddd_core`."""


# --- Domain and application errors -------------------------------------------------------


class DomainError(CQRSDDDError):
    """A business rule refused the operation (e.g. an order that cannot be shipped yet)."""


class NotFoundError(CQRSDDDError):
    """An aggregate or resource does not exist."""

    def __init__(self, kind: str, identifier: str) -> None:
        self.kind = kind
        self.identifier = identifier
        super().__init__(f"{kind} {identifier!r} was not found")


class ValidationError(CQRSDDDError):
    """A message or payload is not valid; ``errors`` lists the offending fields."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        self.errors = errors or []
        super().__init__(message)


# --8<-- [start:concurrency]
class ConcurrencyError(CQRSDDDError):
    """An optimistic concurrency check failed: someone else changed the aggregate first."""

    def __init__(self, kind: str, identifier: str, expected_version: int) -> None:
        self.kind = kind
        self.identifier = identifier
        self.expected_version = expected_version
        super().__init__(
            f"{kind} {identifier!r} was changed by someone else (expected version "
            f"{expected_version}); reload it and try again"
        )
        # --8<-- [end:concurrency]


# --- Dispatch errors ---------------------------------------------------------------------


class HandlerError(CQRSDDDError):
    """Base class of handler registration and resolution errors."""


class HandlerNotFoundError(HandlerError):
    """No handler is registered for a command or query type."""

    def __init__(self, message_type: type) -> None:
        self.message_type = message_type
        super().__init__(
            f"No handler is registered for {message_type.__name__}; register one with "
            f"HandlerRegistry.register_command_handler/register_query_handler"
        )


class HandlerAlreadyRegisteredError(HandlerError):
    """A command or query type already has a different handler (one type, one handler)."""

    def __init__(self, message_type: type, existing: str | None = None) -> None:
        self.message_type = message_type
        already = f"already has a handler ({existing})" if existing else "already has a handler"
        super().__init__(
            f"{message_type.__name__} {already}; a command or query type has exactly one "
            f"handler class (event types may have many): register only one of them"
        )


class HandlerWiringError(HandlerError):
    """Handlers wired in a way that would silently skip some of them (the message says how)."""


class UnknownMessageTypeError(HandlerError):
    """A message or event type name is not registered."""

    def __init__(self, type_name: str, kind: str = "message") -> None:
        self.type_name = type_name
        self.kind = kind
        super().__init__(f"Unknown {kind} type {type_name!r}: it is not registered")


class MessageHydrationError(ValidationError):
    """A stored or received payload does not fit the class registered for its type name."""

    def __init__(self, type_name: str, errors: list[dict[str, Any]]) -> None:
        self.type_name = type_name
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())) or "<root>" for e in errors)
        super().__init__(f"Invalid payload for {type_name!r}: bad field(s) {fields}", errors)

    @classmethod
    def from_pydantic(cls, type_name: str, exc: pydantic.ValidationError) -> MessageHydrationError:
        """Keep pydantic's field errors, without echoing the (possibly large) input."""
        errors = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        return cls(type_name, errors)


# --- Unit of work ------------------------------------------------------------------------


class UnitOfWorkError(CQRSDDDError):
    """The unit of work was used outside its life (after commit/rollback, or read-only)."""


class MissingTableError(CQRSDDDError):
    """A table an adapter needs is not in its database: the migrations were not run there."""

    def __init__(self, table: str, owner: str) -> None:
        self.table = table
        self.owner = owner
        super().__init__(
            f"{owner} needs the table {table!r}, which its database does not have: run the "
            f"migrations first (cqrs_ddd_core.adapters.sqlalchemy.migrate.upgrade, or "
            f"`python -m cqrs_ddd_core.adapters.sqlalchemy.migrate URL`)"
        )


# --- Locking -----------------------------------------------------------------------------


# --8<-- [start:locking]
class LockError(CQRSDDDError):
    """Base class of locking errors."""


class LockAcquisitionError(LockError):
    """A lock could not be acquired: names the resource, the timeout and the reason."""

    def __init__(self, resource: Any, timeout: float | None, reason: str) -> None:
        self.resource = resource
        self.timeout = timeout
        self.reason = reason
        waited = f" within {timeout}s" if timeout is not None else ""
        super().__init__(f"Could not lock {resource}{waited}: {reason}")


class LockReleaseError(LockError):
    """A release named a lock the caller does not hold (wrong token, or expired)."""

    def __init__(self, resource: Any, reason: str) -> None:
        self.resource = resource
        self.reason = reason
        super().__init__(f"Could not release {resource}: {reason}")
        # --8<-- [end:locking]


# --- Messaging ---------------------------------------------------------------------------


# --8<-- [start:messaging]
class PublishError(CQRSDDDError):
    """A message could not be handed to its destination."""


class UnroutableMessageError(PublishError):
    """No route, destination or default publisher matches a message."""

    def __init__(
        self,
        topic: str,
        way_out: str = "add a route, mark its class with @route_to, "
        "or give TopicRoutingPublisher a default",
    ) -> None:
        self.topic = topic
        super().__init__(f"No publisher for {topic!r}: {way_out}")


class PoisonMessageError(CQRSDDDError):
    """A received message can never be processed (malformed, unknown type, invalid fields).

    Retrying cannot help: a broker adapter dead-letters it at once, with ``reason``.
    """

    def __init__(self, reason: str, *, message_id: str | None = None) -> None:
        self.reason = reason
        self.message_id = message_id
        super().__init__(reason)


POISON_ERRORS: tuple[type[Exception], ...] = (
    PoisonMessageError,
    MessageHydrationError,
    UnknownMessageTypeError,
)
"""Errors no retry can cure: every broker adapter dead-letters the message at once."""

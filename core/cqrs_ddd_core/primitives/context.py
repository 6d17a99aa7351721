"""Correlation and causation context, carried in context variables.

*correlation_id* names the whole story (one customer request and everything it causes, across
services); *causation_id* names the message being handled right now, so anything created while
handling it - a nested command, an event - records it as its direct parent.

Context variables follow the asyncio task: values set here are visible to the code awaited
below, and `message_context` always restores the previous values on exit, so two independent
requests never share an id. Guide: docs/patterns/correlation.md.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from types import TracebackType

# --8<-- [start:context]
# One variable holds both ids: they always change together, and a send sets it once, not twice.
_ids: ContextVar[tuple[str | None, str | None]] = ContextVar("message_ids", default=(None, None))


def get_correlation_id() -> str | None:
    """The correlation id of the story being handled now, or ``None`` outside any."""
    return _ids.get()[0]


def get_causation_id() -> str | None:
    """The id of the message being handled now: the parent of anything created here."""
    return _ids.get()[1]


class message_context:  # lower case: used like a function, `with message_context(a, b):`
    """Set both ids for the duration of a block, restoring the previous values afterwards."""

    # A class rather than @contextmanager: it runs on every send, and a generator costs ~1 µs.
    __slots__ = ("_ids", "_token")

    def __init__(self, correlation_id: str | None, causation_id: str | None) -> None:
        self._ids = (correlation_id, causation_id)

    def __enter__(self) -> None:
        self._token: Token[tuple[str | None, str | None]] = _ids.set(self._ids)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _ids.reset(self._token)

"""Correlation and causation context, carried in context variables.

*correlation_id* names the whole story (one customer request and everything it causes, across
services); *causation_id* names the message being handled right now, so anything created while
handling it - a nested command, an event - records it as its direct parent.

Context variables follow the asyncio task: values set here are visible to the code awaited
below, and `message_context` always restores the previous values on exit, so two independent
requests never share an id. Guide: docs/patterns/correlation.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# --8<-- [start:context]
_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)


def get_correlation_id() -> str | None:
    """The correlation id of the story being handled now, or ``None`` outside any."""
    return _correlation_id.get()


def get_causation_id() -> str | None:
    """The id of the message being handled now: the parent of anything created here."""
    return _causation_id.get()


@contextmanager
def message_context(correlation_id: str | None, causation_id: str | None) -> Iterator[None]:
    """Set both ids for the duration of a block, restoring the previous values afterwards."""
    correlation_token = _correlation_id.set(correlation_id)
    causation_token = _causation_id.set(causation_id)
    try:
        yield
    finally:
        _causation_id.reset(causation_token)
        _correlation_id.reset(correlation_token)

"""`observed`: what the mediator wraps around each command - its span and its duration metric.

One context manager for both, and when neither tracing nor metrics is on, a shared one that
does nothing: the mediator's hot path pays one call and one ``with``, not two.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from cqrs_ddd_core.observability import metrics, tracing


class _Both:
    __slots__ = ("_span", "_timer")

    def __init__(self, message: Any) -> None:
        self._span = tracing.message_span(message)
        self._timer = metrics.command_timer(message)

    def __enter__(self) -> None:
        self._span.__enter__()
        self._timer.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._timer.__exit__(exc_type, exc, traceback)
        finally:
            self._span.__exit__(exc_type, exc, traceback)


def observed(message: Any) -> Any:
    """``with observed(command):`` - a span (tracing on) and a duration (metrics on)."""
    # The modules' own switches, read directly: this runs on every command.
    if tracing._tracer is None and metrics._instruments is None:
        return tracing._OFF
    return _Both(message)

"""`MiddlewareRegistry`: the ordered list of middleware the mediator wraps around handlers.

A middleware is anything with ``async __call__(message, next)``: it may act before and after
``await next(message)``, or refuse to call it. Lower ``priority`` runs outermost; equal
priorities keep registration order. Middleware runs around nested commands too.

The thing to notice: the pipeline's shape lives here, beside the mediator that builds it, and
the middleware themselves live in `middleware/`, which depends on this package and never the
other way round. (`cqrs_ddd_core.middleware.registry` re-exports these names.)
Guide: docs/components/mediator.md#middleware.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Next = Callable[[Any], Awaitable[Any]]
Middleware = Callable[[Any, Next], Awaitable[Any]]


@dataclass(frozen=True)
class _Entry:
    middleware: Middleware
    priority: int
    order: int


# --8<-- [start:registry]
class MiddlewareRegistry:
    """Holds middleware in execution order (outermost first)."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self.version = 0
        """Bumped on every change, so a mediator knows to rebuild its cached pipelines."""

    def register(self, middleware: Any, priority: int = 100) -> None:
        """Add a middleware instance (a class is instantiated with no arguments)."""
        instance = middleware() if inspect.isclass(middleware) else middleware
        if not callable(instance):
            raise TypeError(
                f"{instance!r} is not a middleware: it needs async __call__(message, next)"
            )
        self._entries.append(_Entry(instance, priority, len(self._entries)))
        self._entries.sort(key=lambda e: (e.priority, e.order))
        self.version += 1

    def middlewares(self) -> list[Middleware]:
        """The middleware, outermost first."""
        return [entry.middleware for entry in self._entries]
        # --8<-- [end:registry]

    def __len__(self) -> int:
        return len(self._entries)

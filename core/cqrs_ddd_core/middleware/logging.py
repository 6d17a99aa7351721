"""`LoggingMiddleware`: one log line per message, with its ids, outcome and duration.

The correlation id in every line is what lets you follow one order through both services.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from cqrs_ddd_core.middleware.registry import Next


# --8<-- [start:logging]
class LoggingMiddleware:
    """Logs each command and query: start at DEBUG, outcome at INFO, failure at ERROR."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("cqrs_ddd_core.messages")

    async def __call__(self, message: Any, next: Next) -> Any:
        name = type(message).__name__
        ids = {
            "message_type": name,
            "message_id": getattr(message, "message_id", None),
            "correlation_id": getattr(message, "correlation_id", None),
            "causation_id": getattr(message, "causation_id", None),
        }
        self._logger.debug("handling %s", name, extra=ids)
        started = time.perf_counter()
        try:
            response = await next(message)
        except Exception as exc:
            elapsed_ms = (time.perf_counter() - started) * 1000
            self._logger.error(
                "%s failed after %.1f ms: %s: %s",
                name,
                elapsed_ms,
                type(exc).__name__,
                exc,
                extra=ids,
            )
            raise
        elapsed_ms = (time.perf_counter() - started) * 1000
        outcome = "succeeded" if getattr(response, "success", True) else "reported failure"
        self._logger.info(
            "%s %s in %.1f ms [correlation_id=%s]",
            name,
            outcome,
            elapsed_ms,
            ids["correlation_id"],
            extra=ids,
        )
        return response

"""JSON log lines: ``LOG_FORMAT=json`` writes one JSON object per line, with the story's ids.

The standard library's logging does the work and python-json-logger formats the record; this
module adds one filter, `StoryFields`, which stamps every record with what ties a line to the
rest of the story: ``service``, ``trace_id`` and ``span_id`` (of the span current when the line
was logged), ``correlation_id`` and ``causation_id`` (from the message context) and, when the
line is about one message, its ``message_type`` and ``message_id`` (``extra=`` of the call).
A line written while tracing is off simply has no trace ids. The default stays the readable
one-line text format: `configure_log_format` changes nothing for ``text``.
Guide: docs/patterns/observability.md.
"""

from __future__ import annotations

import logging
from typing import Any

from cqrs_ddd_core.observability.tracing import current_ids
from cqrs_ddd_core.primitives.context import get_causation_id, get_correlation_id

JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
OWN_HANDLER_LOGGERS = ("litestar", "uvicorn", "uvicorn.error", "uvicorn.access")


class StoryFields(logging.Filter):
    """Adds the service, the trace and the story's ids to every record it passes."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        ids = current_ids()
        record.trace_id, record.span_id = ids if ids is not None else (None, None)
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = get_correlation_id()
        if getattr(record, "causation_id", None) is None:
            record.causation_id = get_causation_id()
        for name in ("message_type", "message_id"):
            if not hasattr(record, name):
                setattr(record, name, None)
        record.__dict__.pop("color_message", None)  # uvicorn's copy with terminal colours
        return True


def json_handler(service: str) -> logging.Handler:
    """A stderr handler writing each record as one JSON object, story fields included."""
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler()
    handler.addFilter(StoryFields(service))
    handler.setFormatter(
        JsonFormatter(
            JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    return handler


def configure_log_format(service: str, log_format: str) -> None:
    """``json``: the root logger writes JSON lines from now on; ``text``: leave it as it is."""
    if log_format != "json":
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(json_handler(service))
    # Litestar gives its logger a handler of its own: its records go through ours instead.
    for name in OWN_HANDLER_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True


def uvicorn_log_config(log_format: str) -> dict[str, Any]:
    """uvicorn's logging: its own for ``text``; for ``json`` its records go to our handler."""
    from uvicorn.config import LOGGING_CONFIG

    if log_format != "json":
        return LOGGING_CONFIG
    to_root = {"handlers": [], "level": "INFO", "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {"uvicorn": to_root, "uvicorn.error": to_root, "uvicorn.access": to_root},
    }

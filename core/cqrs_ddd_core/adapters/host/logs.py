"""`configure_logging`: the log lines a service writes - one record, one line, always.

Ids and text arrive from clients and other services. The edge refuses control characters in
them (primitives/text.py), but a log line must not depend on every input having been checked:
a newline in a logged value would start a second line that looks like the service wrote it
(log injection), and an ESC would drive the reader's terminal. `EscapeControlCharacters`
writes every control character of a record's message as its escape (``\\n``, ``\\x1b``), for
every logger, because it sits on the handler. A traceback keeps its own line breaks: it is
written by the formatter, after the filter.
Scenario: features/edge/log_injection.feature. Guide: docs/edge/hostile-input.md.
"""

from __future__ import annotations

import logging
from typing import TextIO

from cqrs_ddd_core.primitives.text import escape_control

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


# --8<-- [start:filter]
class EscapeControlCharacters(logging.Filter):
    """Rewrites a record whose message holds control characters with them escaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        escaped = escape_control(message)
        if escaped != message:
            record.msg, record.args = escaped, None
        return True
        # --8<-- [end:filter]


def log_handler(stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to ``stream`` (stderr by default) in `LOG_FORMAT`, escaping."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(EscapeControlCharacters())
    return handler


def configure_logging(level: int = logging.INFO) -> None:
    """The process's logging: one `log_handler` on the root logger, at ``level``."""
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(log_handler())

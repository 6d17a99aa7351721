"""`STORABLE_TEXT` and `IDENTIFIER`: the rules text input follows to be storable and loggable.

PostgreSQL refuses the NUL character in text columns; SQLite takes it. Without this rule an
id with a NUL in it is a 500 on one database and a stored row on the other. The other control
characters (U+0001-U+001F, U+007F: newline, carriage return, ESC...) store fine but forge log
lines and terminal output, and no id or short text of ours needs them. Inputs use the rules as
patterns (``Field(pattern=STORABLE_TEXT)``), so such input is a 400 naming the field, and a
broker message carrying it is poison. An id must also name something: `IDENTIFIER` refuses one
made only of spaces, at the edge, instead of leaving it to the domain's refusal (a 409 that
names no field). `escape_control` is the log side: whatever got in is written escaped.
Guide: docs/edge/hostile-input.md.
"""

from __future__ import annotations

import re

# --8<-- [start:rules]
CONTROL = r"\x00-\x1f\x7f"
"""U+0000-U+001F and U+007F, as a regular-expression character range."""

STORABLE_TEXT = rf"^[^{CONTROL}]*$"

IDENTIFIER = rf"^[^{CONTROL}]*[^\s{CONTROL}][^{CONTROL}]*$"
"""`STORABLE_TEXT` with at least one character that is not white space."""
# --8<-- [end:rules]

ID_MAX_LENGTH = 64
"""The longest id the services and the core's tables store (``String(64)`` columns)."""

_CONTROL_CHARACTER = re.compile(f"[{CONTROL}]")


def escape_control(text: str) -> str:
    """``text`` with each control character written as its escape (``\\n``, ``\\x1b``)."""
    return _CONTROL_CHARACTER.sub(lambda match: repr(match.group())[1:-1], text)

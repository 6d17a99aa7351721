"""`STORABLE_TEXT` and `IDENTIFIER`: the rules text input follows to be storable anywhere.

PostgreSQL refuses the NUL character in text columns; SQLite takes it. Without this rule an
id with a NUL in it is a 500 on one database and a stored row on the other. Inputs use it as
a pattern (``Field(pattern=STORABLE_TEXT)``), so such input is a 400 naming the field.
An id must also name something: `IDENTIFIER` refuses one made only of spaces, at the edge,
instead of leaving it to the domain's refusal (a 409 that names no field).
"""

from __future__ import annotations

STORABLE_TEXT = r"^[^\x00]*$"

IDENTIFIER = r"^[^\x00]*[^\s\x00][^\x00]*$"
"""`STORABLE_TEXT` with at least one character that is not white space."""

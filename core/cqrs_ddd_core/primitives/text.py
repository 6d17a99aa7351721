"""`STORABLE_TEXT`: the one rule every text input must follow to be storable anywhere.

PostgreSQL refuses the NUL character in text columns; SQLite takes it. Without this rule an
id with a NUL in it is a 500 on one database and a stored row on the other. Inputs use it as
a pattern (``Field(pattern=STORABLE_TEXT)``), so such input is a 400 naming the field.
"""

from __future__ import annotations

STORABLE_TEXT = r"^[^\x00]*$"

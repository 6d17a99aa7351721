"""Identifiers: one function so every id in the system has the same shape (a UUID4 string)."""

from __future__ import annotations

import uuid


def new_id() -> str:
    """A new random identifier, as a string."""
    return str(uuid.uuid4())

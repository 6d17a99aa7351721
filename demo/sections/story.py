"""`Story`: what one section of the walkthrough leaves for the sections after it.

The thing to notice: the sections hand each other nothing but these ids. Everything else a
section shows it reads again from the running services - their databases, the broker, the HTTP
API - so no section can rely on what an earlier one merely printed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Story:
    """What one section leaves for the next ones."""

    first_order: str = ""
    first_correlation: str = ""
    paid_order: str = ""

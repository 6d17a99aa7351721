"""`ResourceIdentifier`: the name of something a command must hold exclusively.

Identifiers are ordered (by type, then id) because `CriticalSection` always acquires
locks in one global order - that ordering is what makes deadlocks impossible.
Guide: docs/components/critical-section.md.
"""

from __future__ import annotations

from dataclasses import dataclass


# --8<-- [start:resource]
@dataclass(frozen=True, order=True)
class ResourceIdentifier:
    """A lockable resource, e.g. ``ResourceIdentifier("Account", "123")``."""

    resource_type: str
    resource_id: str

    def __post_init__(self) -> None:
        if not self.resource_type or not self.resource_id:
            raise ValueError(
                "ResourceIdentifier needs a non-empty resource_type and resource_id, "
                f"got {self.resource_type!r}, {self.resource_id!r}"
            )

    @property
    def key(self) -> str:
        """The stable string form used as a lock key (``"Account:123"``)."""
        return f"{self.resource_type}:{self.resource_id}"

    def __str__(self) -> str:
        return self.key
        # --8<-- [end:resource]

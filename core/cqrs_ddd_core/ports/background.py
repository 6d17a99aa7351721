"""`IBackgroundWorker`: something that runs beside the request path (the outbox relay)."""

from __future__ import annotations

from abc import ABC, abstractmethod


class IBackgroundWorker(ABC):
    @abstractmethod
    async def start(self) -> None:
        """Start working in the background; returns once started."""

    @abstractmethod
    async def stop(self) -> None:
        """Finish what is in flight, then stop."""

"""`MovableClock`: ordering's clock in the demo - real time, plus however far the demo moved it.

The payment deadline is 30 seconds; a demo that waited for it would be a demo nobody watches.
Ordering takes its clock as a parameter (`ordering_service.bootstrap.build(..., clock=)`, the
same seam the scenarios use), so the demo hands it this one and says "31 seconds later" by
moving it - the deadline row, the scheduler and its claim are the real ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class MovableClock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

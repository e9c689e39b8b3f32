"""The emulator's clock: wall time plus an offset that tests move forward."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch, as the emulator sees them."""
        return time.time() + self._offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds

    def reset(self) -> None:
        self._offset = 0.0


def iso(timestamp: float) -> str:
    """Wallaroo's ISO form: microseconds and an explicit +00:00."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="microseconds")


def iso_z(timestamp: float) -> str:
    """Assays v2's form (a separate service): microseconds and "Z", as in
    "2025-03-19T16:37:12.229442Z"."""
    return iso(timestamp).removesuffix("+00:00") + "Z"

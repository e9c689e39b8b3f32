"""A clock the tests move forward, for the bot's `Services.clock`: wall time plus an offset,
as the emulator's own clock is, so times the bot stored from real time stay in order."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class MovableClock:
    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()  # moved from the test's thread, read on the bot's

    def __call__(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)

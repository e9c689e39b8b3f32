"""The time windows an assay run scores: window k covers [start + k*interval, + width)."""

from __future__ import annotations

import numpy as np


def window_bounds(start_ms: int, width_ms: int, interval_ms: int, stop_ms: int) -> np.ndarray:
    """(k, 2) int64 rows of [start, end), for every window that ENDS by `stop_ms`.

    Only complete windows: a window still open at `stop_ms` would score a partial day against a
    full baseline. An interval shorter than the width gives overlapping windows.
    """
    if width_ms <= 0 or interval_ms <= 0:
        raise ValueError("window width and interval must be positive")
    last_start = stop_ms - width_ms
    count = 0 if last_start < start_ms else (last_start - start_ms) // interval_ms + 1
    starts = start_ms + np.arange(count, dtype=np.int64) * np.int64(interval_ms)
    return np.stack([starts, starts + np.int64(width_ms)], axis=1)

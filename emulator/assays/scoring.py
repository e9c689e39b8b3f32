"""Aggregated values, the drift score between a baseline and a window, and the result's status.

Bins are few (num_bins + 2), so the arithmetic is done in plain Python floats, one bin at a time
and summed left to right: that order, with `math.log`, reproduces Wallaroo's published PSI
figures bit for bit (the tutorial's run_interactive example).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# PSI's stand-in for an empty bin's share, so that ln(w / b) stays finite.
EMPTY_BIN_SHARE = 0.005


def shares(counts: Sequence[int] | np.ndarray) -> list[float]:
    """Each bin's share of the sample (all 0.0 for an empty one)."""
    ints = [int(c) for c in counts]
    total = sum(ints)
    return [c / total if total else 0.0 for c in ints]


def _running_sum(values: Sequence[float]) -> float:
    # Strictly left to right: sum() became compensated in Python 3.12, which changes last bits.
    total = 0.0
    for v in values:
        total += v
    return total


def aggregate(
    counts: Sequence[int] | np.ndarray, edges: Sequence[float] | np.ndarray, aggregation: str
) -> list[float | None]:
    """A summary's `aggregated_values`."""
    if aggregation == "Edges":
        return [None if math.isinf(e) else float(e) for e in edges]
    density = shares(counts)
    if aggregation == "Density":
        return list(density)
    if aggregation == "Cumulative":
        cumulative, total = [], 0.0
        for share in density:
            total += share
            cumulative.append(total)
        return cumulative
    raise ValueError(f"unknown aggregation {aggregation!r}")


def _psi_term(b: float, w: float) -> float:
    if b == 0.0 and w == 0.0:
        return 0.0
    b = b or EMPTY_BIN_SHARE
    w = w or EMPTY_BIN_SHARE
    return (w - b) * math.log(w / b)


def score(
    baseline_counts: Sequence[int] | np.ndarray,
    window_counts: Sequence[int] | np.ndarray,
    metric: str,
    bin_weights: Sequence[float] | None = None,
) -> tuple[float, list[float], int | None]:
    """(score, per-bin scores, index): index is the worst bin for MaxDiff, else None."""
    if len(baseline_counts) != len(window_counts):
        raise ValueError("baseline and window have different numbers of bins")
    return score_shares(shares(baseline_counts), shares(window_counts), metric, bin_weights)


def score_shares(
    baseline_shares: Sequence[float],
    window_shares: Sequence[float],
    metric: str,
    bin_weights: Sequence[float] | None = None,
) -> tuple[float, list[float], int | None]:
    """`score` from each bin's share of its sample: a summary baseline (assays v2, or a v1
    static one) carries shares, not counts. An empty bin is a share of exactly 0.0 either way."""
    b_shares, w_shares = [float(b) for b in baseline_shares], [float(w) for w in window_shares]
    if len(b_shares) != len(w_shares):
        raise ValueError("baseline and window have different numbers of bins")
    if metric == "PSI":
        scores = list(map(_psi_term, b_shares, w_shares))
    elif metric in ("MaxDiff", "SumDiff"):
        scores = [abs(w - b) for b, w in zip(b_shares, w_shares, strict=True)]
    else:
        raise ValueError(f"unknown metric {metric!r}")
    if bin_weights is not None:
        scores = [s * float(weight) for s, weight in zip(scores, bin_weights, strict=True)]
    if metric == "MaxDiff":
        index = max(range(len(scores)), key=scores.__getitem__)  # the first, on a tie
        return scores[index], scores, index
    return _running_sum(scores), scores, None


def assay_status(score: float, warning_threshold: float | None, alert_threshold: float) -> str:
    """Reaching a threshold counts as crossing it."""
    if score >= alert_threshold:
        return "Alert"
    if warning_threshold is not None and score >= warning_threshold:
        return "Warning"
    return "Ok"

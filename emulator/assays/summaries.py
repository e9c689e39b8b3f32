"""Baseline and window summaries, and scoring every window of a run against the baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from emulator.assays.binning import baseline_edges, bin_counts, bin_indices, edge_names
from emulator.assays.config import AssayConfigError, Summarizer, format_time_z
from emulator.assays.scoring import aggregate, assay_status, score_shares, shares


def summary(
    values: np.ndarray,
    counts: np.ndarray,
    edges: np.ndarray,
    names: list[str],
    s: Summarizer,
    start_ms: int,
    end_ms: int,
) -> dict[str, Any]:
    """A `baseline_summary` / `window_summary`, keys in Wallaroo's order, JSON-ready."""
    x = np.asarray(values, dtype=np.float64)
    empty = x.size == 0
    return {
        "count": int(x.size),
        "min": None if empty else float(x.min()),
        "max": None if empty else float(x.max()),
        "mean": None if empty else float(x.mean()),
        "median": None if empty else float(np.median(x)),
        "std": None if empty else float(x.std()),  # population std (ddof=0)
        "edges": [None if np.isinf(e) else float(e) for e in edges],
        "edge_names": list(names),
        "aggregated_values": aggregate(counts, edges, s.aggregation),
        "aggregation": s.aggregation,
        "start": format_time_z(start_ms),
        "end": format_time_z(end_ms),
    }


@dataclass
class Baseline:
    values_count: int
    edges: np.ndarray
    # None for a baseline given as a summary (v1 static, v2 Summary): it carries shares only.
    counts: np.ndarray | None
    summary: dict[str, Any]
    shares: list[float]


@dataclass
class WindowScore:
    start_ms: int
    end_ms: int
    summary: dict[str, Any]
    score: float
    scores: list[float]
    index: int | None
    status: str


def compute_baseline(values: np.ndarray, s: Summarizer, start_ms: int, end_ms: int) -> Baseline:
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise AssayConfigError(
            "baseline",
            f"no inference log records between {format_time_z(start_ms)} and "
            f"{format_time_z(end_ms)}",
        )
    edges = baseline_edges(x, s)
    counts = bin_counts(x, edges, s)
    names = edge_names(edges, s, baseline=True)
    baseline_summary = summary(x, counts, edges, names, s, start_ms, end_ms)
    return Baseline(int(x.size), edges, counts, baseline_summary, shares(counts))


def _window_counts(
    bins: np.ndarray, first: np.ndarray, stop: np.ndarray, n_bins: int
) -> np.ndarray:
    """(k, n_bins) counts of bin b among records [first[i], stop[i]): per bin, the sorted record
    positions in that bin, searched for each window's boundaries."""
    counts = np.empty((len(first), n_bins), dtype=np.int64)
    for b in range(n_bins):
        positions = np.flatnonzero(bins == b)
        counts[:, b] = np.searchsorted(positions, stop) - np.searchsorted(positions, first)
    return counts


def score_windows(
    baseline: Baseline,
    times_ms: np.ndarray,
    values: np.ndarray,
    bounds: np.ndarray,
    s: Summarizer,
    warning_threshold: float | None,
    alert_threshold: float,
) -> list[WindowScore]:
    """Score each [start, end) window of `bounds` that holds records; `times_ms` sorted ascending.

    Every value is binned once; windows (which may overlap) then only count positions.
    """
    x = np.asarray(values, dtype=np.float64)
    times = np.asarray(times_ms, dtype=np.int64)
    bounds = np.asarray(bounds, dtype=np.int64).reshape(-1, 2)
    edges = baseline.edges
    # A record exactly on a boundary belongs to the window that starts there (end exclusive).
    first = np.searchsorted(times, bounds[:, 0], side="left")
    stop = np.searchsorted(times, bounds[:, 1], side="left")
    counts = _window_counts(bin_indices(x, edges, s), first, stop, len(edges))
    names = edge_names(edges, s, baseline=False)
    results = []
    for i in np.flatnonzero(stop > first):
        start_ms, end_ms = int(bounds[i, 0]), int(bounds[i, 1])
        window_summary = summary(
            x[first[i] : stop[i]], counts[i], edges, names, s, start_ms, end_ms
        )
        total, scores, index = score_shares(
            baseline.shares, shares(counts[i]), s.metric, s.bin_weights
        )
        status = assay_status(total, warning_threshold, alert_threshold)
        results.append(WindowScore(start_ms, end_ms, window_summary, total, scores, index, status))
    return results

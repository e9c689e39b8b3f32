"""Bin edges from a baseline, and which bin each value falls in.

Each edge is the INCLUSIVE upper bound of its bin. With outlier edges (Wallaroo's default) the
edges are `[low, e_1, ..., e_B, +inf]`: the left_outlier bin is (-inf, low), the first bin
[low, e_1], bin k (e_{k-1}, e_k], and right_outlier (e_B, +inf). Ties give duplicate edges and
so empty bins, exactly as Wallaroo reports them.

Without outlier edges the emulator drops both outlier bins and their edges, keeping B edges
`[e_1, ..., e_B]`: values below e_1 count in the first bin and values above e_B in the last.

Per bin mode, with `low` = the baseline's minimum and e_B = its maximum:
- Quantile: e_k = numpy's `quantile(x, k/B, method="closest_observation")`.
- Equal: e_k = min + k * (max - min) / B, with e_B exactly max.
- Provided (as Wallaroo's SDK describes it): the sorted `provided_edges` are e_1..e_B; a B+1'th
  edge is the lowest, and replaces `low` as the left outlier bin's bound. Without outlier edges
  that lowest extra edge has no bin and is dropped.
The right outlier edge is +inf here and `None` in JSON.
"""

from __future__ import annotations

import numpy as np

from emulator.assays.config import Summarizer


def baseline_edges(values: np.ndarray, s: Summarizer) -> np.ndarray:
    """The edges (float64) that every summary of this assay bins by; `values` must not be empty."""
    x = np.asarray(values, dtype=np.float64)
    if s.bin_mode == "Provided":
        assert s.provided_edges is not None  # Summarizer.from_request guarantees it
        provided = np.array(s.provided_edges, dtype=np.float64)
        upper, low = provided[-s.num_bins :], provided[0]
        if len(provided) == s.num_bins:
            low = x.min()
    else:
        low, high = x.min(), x.max()
        fractions = np.arange(1, s.num_bins, dtype=np.float64) / s.num_bins
        if s.bin_mode == "Quantile":
            inner = np.quantile(x, fractions, method="closest_observation")
        else:
            inner = low + np.arange(1, s.num_bins) * (high - low) / s.num_bins
        upper = np.concatenate([inner, [high]])
    if not s.add_outlier_edges:
        return upper.astype(np.float64)
    return np.concatenate([[low], upper, [np.inf]]).astype(np.float64)


def bin_indices(values: np.ndarray, edges: np.ndarray, s: Summarizer) -> np.ndarray:
    """Each value's bin (0-based), by the inclusive-upper-bound rule in the module docstring."""
    x = np.asarray(values, dtype=np.float64)
    last = len(edges) - 1
    if not s.add_outlier_edges:
        # side="left" counts the edges strictly below a value: equal to an edge stays in its bin.
        return np.minimum(np.searchsorted(edges, x, side="left"), last)
    # The first real bin is closed on the left ([low, e_1]), so only values strictly below
    # `low` are left outliers; everything else is placed among the upper edges.
    index = np.searchsorted(edges[1:], x, side="left") + 1
    index[x < edges[0]] = 0
    return np.minimum(index, last)  # NaN sorts past +inf: count it as a right outlier


def bin_counts(values: np.ndarray, edges: np.ndarray, s: Summarizer) -> np.ndarray:
    """How many values fall in each bin (int64, one per edge)."""
    return np.bincount(bin_indices(values, edges, s), minlength=len(edges)).astype(np.int64)


def edge_names(edges: np.ndarray, s: Summarizer, baseline: bool) -> list[str]:
    """A summary's `edge_names`.

    A Quantile baseline names its bins by percentile ("q_20" ... "q_100"); windows, and (the
    emulator's choice) Equal and Provided baselines, name them by edge value ("e_-3.98e-1").
    """
    inner = edges[1:-1] if s.add_outlier_edges else edges
    if baseline and s.bin_mode == "Quantile":
        names = [_percentile_name(k, s.num_bins) for k in range(1, s.num_bins + 1)]
    else:
        names = [_value_name(float(e)) for e in inner]
    if s.add_outlier_edges:
        return ["left_outlier", *names, "right_outlier"]
    return names


def _percentile_name(k: int, num_bins: int) -> str:
    if (100 * k) % num_bins == 0:
        return f"q_{100 * k // num_bins}"
    return f"q_{100 * k / num_bins:.2f}"


def _value_name(edge: float) -> str:
    # Rust's `{:.2e}`: no "+" and no zero padding in the exponent (7.11e0, not 7.11e+00).
    mantissa, _, exponent = f"{edge:.2e}".partition("e")
    if not exponent:  # inf / nan have no exponent part
        return f"e_{mantissa}"
    return f"e_{mantissa}e{int(exponent)}"

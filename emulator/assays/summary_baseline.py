"""A baseline given as a summary instead of a time range: v1's `{"static": {...}}` and v2's
`{"Summary": {...}}` (which is also how v2 stores a Static baseline once computed).

Such a baseline has bin edges and aggregated values but no counts, so windows are scored
against its bins' shares (scoring.score_shares). A Density summary holds the shares as they
were computed from counts, so it scores exactly as the time range it was made from.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from emulator.assays.config import AssayConfigError, Summarizer
from emulator.assays.summaries import Baseline

# How v2 writes an infinite edge (JSON has no infinity); v1 writes null.
INFINITY = "INFINITY"
_INFINITE = {None: math.inf, INFINITY: math.inf, "-" + INFINITY: -math.inf}


def _edge(value: Any, field: str) -> float:
    if isinstance(value, str | None) and value in _INFINITE:
        return _INFINITE[value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise AssayConfigError(field, f"expected numbers (or {INFINITY!r}), got {value!r}")


def _shares(values: Any, aggregation: Any, field: str) -> list[float]:
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        raise AssayConfigError(f"{field}.aggregated_values", "expected a list of numbers")
    if aggregation == "Density":
        return [float(v) for v in values]
    if aggregation == "Cumulative":
        return [float(b - a) for a, b in zip([0.0, *values[:-1]], values, strict=True)]
    raise AssayConfigError(
        f"{field}.aggregation",
        f"a baseline summary needs bin shares: 'Density' or 'Cumulative', not {aggregation!r}",
    )


def baseline_from_static(static: Any, s: Summarizer, field: str) -> Baseline:
    """A Baseline from a v1 static summary `{count, min, max, mean, median, std, edges,
    edge_names, aggregated_values, aggregation, start?, end?}`; `field` names it in errors."""
    if not isinstance(static, dict):
        raise AssayConfigError(field, "expected an object")
    edges_in = static.get("edges")
    if not isinstance(edges_in, list):
        raise AssayConfigError(f"{field}.edges", "expected a list of numbers")
    edges = np.array([_edge(e, f"{field}.edges") for e in edges_in], dtype=np.float64)
    if len(edges) != s.bin_count:
        raise AssayConfigError(
            f"{field}.edges",
            f"the summarizer makes {s.bin_count} bins, the summary has {len(edges)}",
        )
    bin_shares = _shares(static.get("aggregated_values"), static.get("aggregation"), field)
    if len(bin_shares) != len(edges):
        raise AssayConfigError(f"{field}.aggregated_values", "expected one value per edge")
    count = static.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise AssayConfigError(f"{field}.count", "expected a whole number >= 1")
    summary = {
        **static,
        "edges": [None if math.isinf(e) else float(e) for e in edges],
        "aggregation": static["aggregation"],
    }
    return Baseline(count, edges, None, summary, bin_shares)

"""Assay arithmetic (v1): binning, summaries, drift scores. Pure functions on numpy arrays; the
routes that read inference logs and store results live elsewhere."""

from emulator.assays.binning import baseline_edges, bin_counts, bin_indices, edge_names
from emulator.assays.config import (
    AssayConfigError,
    Summarizer,
    format_time_z,
    parse_duration_ms,
    parse_iopath,
    parse_time_ms,
)
from emulator.assays.scoring import aggregate, assay_status, score
from emulator.assays.summaries import (
    Baseline,
    WindowScore,
    compute_baseline,
    score_windows,
    summary,
)
from emulator.assays.windows import window_bounds

__all__ = [
    "AssayConfigError",
    "Baseline",
    "Summarizer",
    "WindowScore",
    "aggregate",
    "assay_status",
    "baseline_edges",
    "bin_counts",
    "bin_indices",
    "compute_baseline",
    "edge_names",
    "format_time_z",
    "parse_duration_ms",
    "parse_iopath",
    "parse_time_ms",
    "score",
    "score_windows",
    "summary",
    "window_bounds",
]

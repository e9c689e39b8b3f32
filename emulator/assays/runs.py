"""Running an assay plan over a pipeline's inference logs: baseline, windows, result records."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from emulator.assays.binning import edge_names
from emulator.assays.config import AssayConfigError, format_time_z
from emulator.assays.plan import AssayPlan
from emulator.assays.summaries import Baseline, WindowScore, compute_baseline, score_windows
from emulator.assays.windows import window_bounds
from emulator.inference_logs import InferenceLogStore, LogColumns

MAX_WINDOWS = 10_000


@dataclass(frozen=True)
class Series:
    """One iopath's values for one model, sorted by time."""

    times: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class AssayIdentity:
    """What a result record says about the assay that produced it."""

    assay_id: int | None
    name: str
    pipeline_id: int
    pipeline_name: str
    iopath: str


def select_series(
    logs: InferenceLogStore, pipeline: str, model: str | None, iopath: tuple[str, int, int]
) -> Series:
    """The iopath's values of `model`'s records (of every record when model is None)."""
    if not logs.has(pipeline):
        return Series(np.empty(0, np.int64), np.empty(0))
    log = logs.pipeline(pipeline)
    cols = log.columns()
    column = _iopath_column(cols, iopath)
    # Only the records whose model has this value (a pipeline's models may differ in shape).
    codes = log.codes_holding(*iopath)
    if model is not None:
        codes = [code for code in codes if log.models[code][0] == model]
    if len(codes) == len(log.models):
        return Series(cols.times, column)
    rows = np.isin(cols.model_codes, codes)
    return Series(cols.times[rows], column[rows])


def _iopath_column(cols: LogColumns, iopath: tuple[str, int, int]) -> np.ndarray:
    kind, index, element = iopath
    text = f"{kind} {index} {element}"
    if kind == "input":
        # Each log record holds one tensor row, so only row 0 exists.
        width = cols.inputs.shape[1] if cols.inputs.ndim == 2 else 0
        if index != 0 or element >= width:
            raise AssayConfigError(
                "iopath", f"{text!r} is out of range: records hold 1 input row of {width} values"
            )
        return cols.inputs[:, element]
    if index >= len(cols.outputs) or element >= cols.outputs[index].shape[1]:
        shapes = [o.shape[1] for o in cols.outputs]
        raise AssayConfigError("iopath", f"{text!r} is out of range: outputs have sizes {shapes}")
    return cols.outputs[index][:, element]


def values_between(series: Series, start_ms: int, end_ms: int) -> np.ndarray:
    lo, hi = np.searchsorted(series.times, [start_ms, end_ms], side="left")
    return series.values[lo:hi]


def run_baseline(logs: InferenceLogStore, pipeline: str, plan: AssayPlan) -> Baseline:
    if plan.static_baseline is not None:
        return plan.static_baseline
    series = select_series(logs, pipeline, plan.baseline_model, plan.iopath)
    values = values_between(series, plan.baseline_start_ms, plan.baseline_end_ms)
    return compute_baseline(values, plan.summarizer, plan.baseline_start_ms, plan.baseline_end_ms)


def run_windows(
    logs: InferenceLogStore,
    pipeline: str,
    plan: AssayPlan,
    baseline: Baseline,
    first_start_ms: int,
    stop_ms: int,
) -> list[WindowScore]:
    """Score every complete window from first_start_ms whose end is at or before stop_ms."""
    if plan.run_until_ms is not None:
        stop_ms = min(stop_ms, plan.run_until_ms)
    series = select_series(logs, pipeline, plan.window_model, plan.iopath)
    if len(series.times):
        # Windows stop at the end of the data too: the last one holds the last record.
        stop_ms = min(stop_ms, int(series.times[-1]) + plan.width_ms)
    windows = (stop_ms - first_start_ms - plan.width_ms) // plan.interval_ms + 1
    if windows > MAX_WINDOWS:
        raise AssayConfigError(
            "window.width", f"would make {windows} windows; at most {MAX_WINDOWS} per run"
        )
    bounds = window_bounds(first_start_ms, plan.width_ms, plan.interval_ms, stop_ms)
    if len(bounds) == 0 or len(series.times) == 0:
        return []
    return score_windows(
        baseline,
        series.times,
        series.values,
        bounds,
        plan.summarizer,
        plan.warning_threshold,
        plan.alert_threshold,
    )


def _record_head(
    who: AssayIdentity,
    plan: AssayPlan,
    baseline: Baseline,
    window_summary: dict[str, Any],
    created_ms: int,
    started: float,
) -> dict[str, Any]:
    """The fields every result record starts with, in the tutorial's order."""
    return {
        "assay_id": who.assay_id,
        "name": who.name,
        "created_at": created_ms,
        "elapsed_millis": int((time.perf_counter() - started) * 1000),
        "pipeline_id": who.pipeline_id,
        "pipeline_name": who.pipeline_name,
        "iopath": who.iopath,
        "baseline_summary": baseline.summary,
        "window_summary": window_summary,
        "warning_threshold": plan.warning_threshold,
        "alert_threshold": plan.alert_threshold,
    }


def result_record(
    who: AssayIdentity,
    plan: AssayPlan,
    baseline: Baseline,
    window: WindowScore,
    created_ms: int,
    started: float,
) -> dict[str, Any]:
    """A result in the tutorial's shape (plus the newer servers' window_start)."""
    return {
        **_record_head(who, plan, baseline, window.summary, created_ms, started),
        "score": window.score,
        "scores": window.scores,
        "index": window.index,
        "summarizer_meta": plan.summarizer.meta(),
        "status": window.status,
        "window_start": format_time_z(window.start_ms),
    }


def baseline_record(
    who: AssayIdentity, plan: AssayPlan, baseline: Baseline, created_ms: int, started: float
) -> dict[str, Any]:
    """run_interactive_baseline's answer: the baseline against itself, status BaselineRun."""
    window_names = edge_names(baseline.edges, plan.summarizer, baseline=False)
    window_summary = {**baseline.summary, "edge_names": window_names}
    bins = len(baseline.shares)
    return {
        **_record_head(who, plan, baseline, window_summary, created_ms, started),
        "score": 0.0,
        "scores": [0.0] * bins,
        "index": None,
        # The tutorial's baseline run answers summarizer_meta as a JSON string.
        "summarizer_meta": json.dumps(plan.summarizer.meta(), separators=(",", ":")),
        "status": "BaselineRun",
    }

"""Assays v2 baselines and windows, computed by the v1 code (runs.run_baseline, run_windows)
and shaped as v2 answers them: summaries keyed by iopath ("out.variable.0"), bins as
`{mode, edges, labels}` with "INFINITY" for an infinite edge, scores as `{score, scores,
bin_index}`, and a status that is the worst of the monitored paths'.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from emulator.assays.config import AssayConfigError, Summarizer, format_time_z, parse_time_ms
from emulator.assays.runs import run_baseline, run_windows
from emulator.assays.summaries import Baseline, compute_baseline
from emulator.assays.summary_baseline import INFINITY, baseline_from_static
from emulator.assays.v2_config import V2Config
from emulator.inference_logs import InferenceLogStore

_SEVERITY = {"Ok": 0, "Warning": 1, "Alert": 2}


@dataclass
class WindowResult:
    start_ms: int
    end_ms: int
    scores: dict[str, dict[str, Any]]
    summaries: dict[str, dict[str, Any]]
    status: str


def _infinite_as_text(values: list[Any]) -> list[Any]:
    return [INFINITY if v is None else v for v in values]


def quantile_labels(num_bins: int) -> list[str]:
    """v2's names for n quantile bins: "< 20%", "20% - 40%", ..., "> 80%" (as recorded for 5;
    a percentage that is not whole is written with two decimals, the emulator's choice)."""
    cuts = [f"{100 * k / num_bins:.2f}".removesuffix(".00") for k in range(1, num_bins)]
    if not cuts:
        return ["100%"]  # one bin holds everything; no answer shows this case
    middle = [f"{a}% - {b}%" for a, b in itertools.pairwise(cuts)]
    return [f"< {cuts[0]}%", *middle, f"> {cuts[-1]}%"]


def as_v2_bins(baseline: Baseline, s: Summarizer) -> Baseline:
    """A baseline computed by the v1 code, binned as v2 shows it: `{"Quantile": n}`'s top bin
    is open-ended ("INFINITY", where v1 without outlier edges has the maximum) and its bins are
    named by percentage. Other modes keep v1's edges and names."""
    if s.bin_mode != "Quantile" or s.add_outlier_edges:
        return baseline
    edges = baseline.edges.copy()
    edges[-1] = np.inf
    summary = dict(baseline.summary)
    summary["edges"] = [*summary["edges"][:-1], None]
    summary["edge_names"] = quantile_labels(s.num_bins)
    if s.aggregation == "Edges":
        summary["aggregated_values"] = summary["edges"]
    return replace(baseline, edges=edges, summary=summary)


def v2_summary(
    v1: dict[str, Any], name: str, mode: Any, labels: list[str] | None = None
) -> dict[str, Any]:
    """A v1 baseline/window summary as a v2 SeriesSummary; a window's bins are its baseline's,
    so it carries the baseline's `labels`."""
    return {
        "name": name,
        "bins": {
            "mode": mode,
            "edges": _infinite_as_text(v1["edges"]),
            "labels": v1["edge_names"] if labels is None else labels,
        },
        "aggregated_values": _infinite_as_text(v1["aggregated_values"]),
        "aggregation": v1["aggregation"],
        "statistics": {k: v1[k] for k in ("count", "min", "max", "mean", "median", "std")},
        "start": v1.get("start"),
        "end": v1.get("end"),
    }


def v1_static(summary: Any, field: str) -> dict[str, Any]:
    """A v2 SeriesSummary as v1's static summary (what summary_baseline reads)."""
    try:
        bins, stats = summary["bins"], summary["statistics"]
        return {
            **{k: stats[k] for k in ("count", "min", "max", "mean", "median", "std")},
            "edges": bins["edges"],
            "edge_names": bins["labels"],
            "aggregated_values": summary["aggregated_values"],
            "aggregation": summary["aggregation"],
            "start": summary.get("start"),
            "end": summary.get("end"),
        }
    except (KeyError, TypeError) as exc:
        raise AssayConfigError(field, f"not a series summary: missing {exc}") from None


def compute_baselines(logs: InferenceLogStore, config: V2Config) -> dict[str, Baseline]:
    """Each monitored path's baseline, from the body's Static range, Summary or Vector."""
    baseline = config.body.baseline
    if len(baseline) != 1:
        raise AssayConfigError("baseline", "expected one of Static, Summary, Vector")
    (kind, value), pipeline = next(iter(baseline.items())), config.body.targeting.data_origin
    baselines = {}
    for path in config.paths:
        if kind == "Static":
            start, end = _static_range(value)
            plan = replace(config.plan(path, None), baseline_start_ms=start, baseline_end_ms=end)
            computed = run_baseline(logs, pipeline.pipeline_name, plan)
            baselines[path.key] = as_v2_bins(computed, config.summarizer)
        elif kind == "Summary" and isinstance(value, dict):
            if path.key not in value:
                raise AssayConfigError("baseline.Summary", f"has no summary for {path.key!r}")
            field = f"baseline.Summary.{path.key}"
            static = v1_static(value[path.key], field)
            baselines[path.key] = baseline_from_static(static, config.summarizer, field)
        elif kind == "Vector" and isinstance(value, list):
            values = np.array([np.nan if v is None else v for v in value], dtype=np.float64)
            computed = compute_baseline(values, config.summarizer, 0, 0)
            computed.summary |= {"start": None, "end": None}
            baselines[path.key] = as_v2_bins(computed, config.summarizer)
        else:
            raise AssayConfigError(
                "baseline",
                "expected {'Static': [start, end]}, {'Summary': {...}} or {'Vector': [...]}"
                " (the emulator computes no Rolling baseline)",
            )
    return baselines


def _static_range(value: Any) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise AssayConfigError("baseline.Static", "expected [start, end]")
    start = parse_time_ms(value[0], "baseline.Static.0")
    end = parse_time_ms(value[1], "baseline.Static.1")
    if end <= start:
        raise AssayConfigError("baseline.Static.1", "must be after the start")
    return start, end


def summary_baseline(config: V2Config, baselines: dict[str, Baseline]) -> dict[str, Any]:
    """How v2 stores any baseline once computed: `{"Summary": {iopath: SeriesSummary}}`."""
    mode = config.body.summarizer.UnivariateContinuous.bin_mode
    return {"Summary": {k: v2_summary(b.summary, k, mode) for k, b in baselines.items()}}


def score_windows(
    logs: InferenceLogStore,
    config: V2Config,
    baselines: dict[str, Baseline],
    first_start_ms: int,
    stop_ms: int,
) -> list[WindowResult]:
    """Every complete window from first_start_ms to stop_ms that holds records."""
    pipeline = config.body.targeting.data_origin.pipeline_name
    mode = config.body.summarizer.UnivariateContinuous.bin_mode
    by_start: dict[int, WindowResult] = {}
    for path in config.paths:
        plan = config.plan(path, baselines[path.key])
        for window in run_windows(
            logs, pipeline, plan, plan.static_baseline, first_start_ms, stop_ms
        ):
            result = by_start.setdefault(
                window.start_ms, WindowResult(window.start_ms, window.end_ms, {}, {}, "Ok")
            )
            result.scores[path.key] = {
                "score": window.score,
                "scores": window.scores,
                "bin_index": window.index,
            }
            labels = baselines[path.key].summary["edge_names"]
            result.summaries[path.key] = v2_summary(window.summary, path.key, mode, labels)
            if _SEVERITY[window.status] > _SEVERITY[result.status]:
                result.status = window.status
    return [by_start[start] for start in sorted(by_start)]


def window_times(result: WindowResult) -> dict[str, str]:
    return {
        "window_start": format_time_z(result.start_ms),
        "window_end": format_time_z(result.end_ms),
    }


def dump_baselines(baselines: dict[str, Baseline]) -> str:
    """What a stored assay scores against: each path's summary and bin shares (a summary
    alone lacks the shares when its aggregation is Edges)."""
    return json.dumps({k: {"summary": b.summary, "shares": b.shares} for k, b in baselines.items()})


def load_baselines(text: str) -> dict[str, Baseline]:
    baselines = {}
    for key, stored in json.loads(text).items():
        summary = stored["summary"]
        edges = np.array([np.inf if e is None else e for e in summary["edges"]], np.float64)
        baselines[key] = Baseline(summary["count"], edges, None, summary, stored["shares"])
    return baselines

"""An assays v2 schedule (or preview) body, checked and mapped onto the v1 machinery.

v2 enums are externally tagged (`{"Quantile": 5}`, `{"SimpleRunFrequency": {...}}`). Each
monitored DataPath becomes one v1 AssayPlan, so v2 bins, summarizes and scores with exactly the
code v1 uses. `{"Quantile": n}` makes n bins and no outlier bins, as real v2 answers show (edges
`[q_1/n, ..., q_(n-1)/n, "INFINITY"]`, labels "< 20%" ... "> 80%": Wallaroo_Tutorials'
Assay-Management-Plus and model-drift-detection notebooks, 2025): v1's Quantile without outlier
edges. `{"QuantileWithExplicitOutliers": n}` keeps v1's two outlier bins, as its name says;
`{"Equal": n}` is v1's Equal and `{"Provided": [...]}` v1's Provided edges (a trailing "INFINITY"
is the right outlier bin's, which v1 adds itself) — no recorded answer shows those three.

Windows: the run at `first_run + k * run_frequency` scores the window of `window.width` that
ends then, so v1's window start is `first_run - width` and its interval the run frequency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

from emulator.assays.config import AssayConfigError, Summarizer, parse_iopath, parse_time_ms
from emulator.assays.iopaths import field_to_iopath, iopath_key
from emulator.assays.plan import AssayPlan
from emulator.assays.summaries import Baseline

_UNIT_MS = {"Minute": 60_000, "Hour": 3_600_000, "Day": 86_400_000, "Week": 604_800_000}


class Thresholds(BaseModel):
    alert: float | None = None
    warning: float | None = None


class DataPath(BaseModel):
    model_config = ConfigDict(extra="allow")
    field: StrictStr
    indexes: list[StrictInt] | None = None
    thresholds: Thresholds | None = None


class DataOrigin(BaseModel):
    model_config = ConfigDict(extra="allow")
    pipeline_id: StrictInt
    pipeline_name: StrictStr
    workspace_id: StrictInt
    workspace_name: StrictStr
    locations: list[StrictStr] | None = None
    model_id: StrictStr | None = None


class Targeting(BaseModel):
    model_config = ConfigDict(extra="allow")
    data_origin: DataOrigin
    iopath: list[DataPath]


class WindowWidth(BaseModel):
    seconds: StrictInt


class RollingWindow(BaseModel):
    model_config = ConfigDict(extra="allow")
    width: WindowWidth


class Scheduling(BaseModel):
    model_config = ConfigDict(extra="allow")
    first_run: StrictStr
    run_frequency: dict[str, Any]
    end: StrictStr | None = None


class Univariate(BaseModel):
    model_config = ConfigDict(extra="allow")
    aggregation: Literal["Density", "Cumulative", "Edges"]
    bin_mode: dict[str, Any] | StrictStr
    metric: Literal["PSI", "MaxDiff", "SumDiff"]
    bin_weights: list[float] | None = None


class SummarizerSpec(BaseModel):
    UnivariateContinuous: Univariate


class AssayBody(BaseModel):
    """What an assay computes from: schedule's body but its name, which preview's lacks."""

    model_config = ConfigDict(extra="allow")
    baseline: dict[str, Any]
    scheduling: Scheduling
    summarizer: SummarizerSpec
    targeting: Targeting
    window: RollingWindow


class ScheduleBody(AssayBody):
    """v2/api/assays/schedule's body."""

    name: StrictStr


class PreviewBody(AssayBody):
    """v2/api/assays/preview's: no name (the spec's has none, nor does the SDK send one); a
    name sent anyway is kept like any extra field."""

    preview_start: StrictStr
    preview_end: StrictStr


@dataclass(frozen=True)
class MonitoredPath:
    key: str  # "out.variable.0": how results name it
    iopath: str  # the tutorial's "output 0 0"
    warning: float | None
    alert: float | None


@dataclass(frozen=True)
class V2Config:
    body: AssayBody
    summarizer: Summarizer
    paths: list[MonitoredPath]
    width_ms: int
    frequency_ms: int
    first_run_ms: int
    end_ms: int | None

    @property
    def first_window_start_ms(self) -> int:
        return self.first_run_ms - self.width_ms

    def plan(self, path: MonitoredPath, baseline: Baseline | None) -> AssayPlan:
        """The v1 plan that scores this path's windows (against `baseline`, once computed)."""
        start_ms, end_ms = _summary_times(baseline)
        return AssayPlan(
            iopath=parse_iopath(path.iopath),
            summarizer=self.summarizer,
            baseline_model=self.body.targeting.data_origin.model_id,
            baseline_start_ms=start_ms,
            baseline_end_ms=end_ms,
            window_model=self.body.targeting.data_origin.model_id,
            width_ms=self.width_ms,
            interval_ms=self.frequency_ms,
            window_start_ms=self.first_window_start_ms,
            run_until_ms=self.end_ms,
            warning_threshold=path.warning,
            # No alert threshold: nothing is an Alert (v1 needs a number).
            alert_threshold=math.inf if path.alert is None else path.alert,
            static_baseline=baseline,
        )


def _summary_times(baseline: Baseline | None) -> tuple[int, int]:
    if baseline is None:
        return 0, 0
    start, end = baseline.summary.get("start"), baseline.summary.get("end")
    return (
        0 if start is None else parse_time_ms(start, "baseline.start"),
        0 if end is None else parse_time_ms(end, "baseline.end"),
    )


def check_config(body: AssayBody) -> V2Config:
    """Every setting the numbers depend on; AssayConfigError names the first bad field."""
    if not body.targeting.iopath:
        raise AssayConfigError("targeting.iopath", "monitor at least one field")
    paths = []
    for i, data_path in enumerate(body.targeting.iopath):
        thresholds = data_path.thresholds or Thresholds()
        iopath = field_to_iopath(data_path.field, data_path.indexes, f"targeting.iopath.{i}")
        key = iopath_key(data_path.field, data_path.indexes)
        paths.append(MonitoredPath(key, iopath, thresholds.warning, thresholds.alert))
    width = body.window.width.seconds
    if width <= 0:
        raise AssayConfigError("window.width.seconds", "must be at least 1")
    scheduling = body.scheduling
    end = scheduling.end
    return V2Config(
        body=body,
        summarizer=v1_summarizer(body.summarizer.UnivariateContinuous),
        paths=paths,
        width_ms=width * 1000,
        frequency_ms=_frequency_ms(scheduling.run_frequency),
        first_run_ms=parse_time_ms(scheduling.first_run, "scheduling.first_run"),
        end_ms=None if end is None else parse_time_ms(end, "scheduling.end"),
    )


def _frequency_ms(frequency: dict[str, Any]) -> int:
    field = "scheduling.run_frequency"
    simple = frequency.get("SimpleRunFrequency")
    if set(frequency) != {"SimpleRunFrequency"} or not isinstance(simple, dict):
        raise AssayConfigError(
            field, "expected {'SimpleRunFrequency': {quantity, unit}} (the emulator runs no Cron)"
        )
    quantity, unit = simple.get("quantity"), simple.get("unit")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise AssayConfigError(f"{field}.SimpleRunFrequency.quantity", "expected an integer >= 1")
    if unit not in _UNIT_MS:
        names = ", ".join(repr(u) for u in _UNIT_MS)
        raise AssayConfigError(f"{field}.SimpleRunFrequency.unit", f"expected one of {names}")
    return quantity * _UNIT_MS[unit]


def v1_summarizer(spec: Univariate) -> Summarizer:
    """The v1 Summarizer that bins and scores as this v2 UnivariateContinuous asks."""
    field = "summarizer.UnivariateContinuous"
    mode = spec.bin_mode
    v1: dict[str, Any] = {
        "aggregation": spec.aggregation,
        "metric": spec.metric,
        "bin_weights": spec.bin_weights,
        "add_outlier_edges": True,
    }
    (name, value), *rest = mode.items() if isinstance(mode, dict) and mode else [(mode, None)]
    if rest:
        raise AssayConfigError(f"{field}.bin_mode", "expected one bin mode")
    if name in ("Quantile", "QuantileWithExplicitOutliers", "Equal"):
        v1 |= {"bin_mode": "Equal" if name == "Equal" else "Quantile", "num_bins": value}
        v1["add_outlier_edges"] = name != "Quantile"
    elif name == "Provided" and isinstance(value, list):
        edges = [e for e in value if e not in (None, "INFINITY") and e != math.inf]
        v1 |= {"bin_mode": "Provided", "num_bins": len(edges), "provided_edges": edges}
    else:
        raise AssayConfigError(
            f"{field}.bin_mode",
            "expected {'Quantile': n}, {'QuantileWithExplicitOutliers': n}, {'Equal': n} or"
            f" {{'Provided': [edges]}}, got {mode!r}",
        )
    try:
        return Summarizer.from_request(v1)
    except AssayConfigError as exc:
        culprit = exc.field.removeprefix("summarizer.")
        culprit = {"num_bins": "bin_mode", "provided_edges": "bin_mode"}.get(culprit, culprit)
        raise AssayConfigError(f"{field}.{culprit}", exc.message) from None

"""An assay request checked and turned into numbers: what to read, how to bin, which windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr

from emulator.assays.config import (
    AssayConfigError,
    Summarizer,
    parse_duration_ms,
    parse_iopath,
    parse_time_ms,
)
from emulator.assays.summaries import Baseline
from emulator.assays.summary_baseline import baseline_from_static


class FixedBaseline(BaseModel):
    pipeline: StrictStr
    model: StrictStr
    start_at: StrictStr
    end_at: StrictStr


class BaselineSpec(BaseModel):
    Fixed: FixedBaseline


class WindowSpec(BaseModel):
    pipeline: StrictStr
    model: StrictStr
    width: StrictStr
    start: StrictStr | None = None
    interval: StrictStr | None = None


class LooseFixedBaseline(FixedBaseline):
    model: StrictStr | None = None  # today's fixed_window may leave the model out: all models


class LooseBaselineSpec(BaseModel):
    """A stored baseline: the tutorial's Fixed, or a summary (today's v1 `static`)."""

    Fixed: LooseFixedBaseline | None = None
    static: dict[str, Any] | None = None


class LooseWindowSpec(WindowSpec):
    model: StrictStr | None = None


class AssayRequest(BaseModel):
    """The body of assays/create, run_interactive and run_interactive_baseline."""

    model_config = ConfigDict(extra="allow")

    id: StrictInt | None = None
    name: StrictStr
    pipeline_id: StrictInt
    pipeline_name: StrictStr
    active: StrictBool = True
    status: StrictStr = "created"
    iopath: StrictStr
    baseline: BaselineSpec
    window: WindowSpec
    summarizer: dict[str, Any]
    warning_threshold: float | None = None
    alert_threshold: float
    run_until: StrictStr | None = None
    workspace_id: StrictInt
    model_insights_url: StrictStr | None = None


class StoredAssayRequest(AssayRequest):
    """What the emulator stores: the tutorial's request, or today's normalized into it
    (emulator/assays/current_v1.py), so one planner and one scheduler serve both."""

    baseline: LooseBaselineSpec  # type: ignore[assignment]
    window: LooseWindowSpec  # type: ignore[assignment]


@dataclass(frozen=True)
class AssayPlan:
    iopath: tuple[str, int, int]
    summarizer: Summarizer
    baseline_model: str | None  # None: every model's records
    baseline_start_ms: int
    baseline_end_ms: int
    window_model: str | None
    width_ms: int
    interval_ms: int
    window_start_ms: int
    run_until_ms: int | None
    warning_threshold: float | None
    alert_threshold: float
    # A baseline given as a summary; None when it is computed from the logs.
    static_baseline: Baseline | None = None


def plan_assay(request: AssayRequest) -> AssayPlan:
    """Check every field that numbers depend on; AssayConfigError names the first bad one."""
    fixed = request.baseline.Fixed
    summarizer = static = None
    if fixed is not None:
        baseline_model = fixed.model
        baseline_start = parse_time_ms(fixed.start_at, "baseline.Fixed.start_at")
        baseline_end = parse_time_ms(fixed.end_at, "baseline.Fixed.end_at")
        if baseline_end <= baseline_start:
            raise AssayConfigError("baseline.Fixed.end_at", "must be after start_at")
    else:
        static_summary = getattr(request.baseline, "static", None)
        if static_summary is None:
            raise AssayConfigError("baseline", "expected a fixed window or a static summary")
        summarizer = Summarizer.from_request(request.summarizer)
        static = baseline_from_static(static_summary, summarizer, "baseline.static")
        baseline_model = None
        baseline_start = _optional_time(static_summary.get("start"), "baseline.static.start")
        baseline_end = _optional_time(static_summary.get("end"), "baseline.static.end")
    window = request.window
    width = parse_duration_ms(window.width, "window.width")
    interval = parse_duration_ms(window.interval, "window.interval") if window.interval else width
    if window.start:
        start = parse_time_ms(window.start, "window.start")
    elif baseline_end is not None:
        start = baseline_end
    else:
        raise AssayConfigError("window.start", "required when the baseline has no end time")
    run_until = parse_time_ms(request.run_until, "run_until") if request.run_until else None
    if request.alert_threshold < 0:
        raise AssayConfigError("alert_threshold", "must be a number >= 0")
    return AssayPlan(
        iopath=parse_iopath(request.iopath),
        summarizer=summarizer or Summarizer.from_request(request.summarizer),
        baseline_model=baseline_model,
        baseline_start_ms=baseline_start or 0,
        baseline_end_ms=baseline_end or 0,
        window_model=window.model,
        width_ms=width,
        interval_ms=interval,
        window_start_ms=start,
        run_until_ms=run_until,
        warning_threshold=request.warning_threshold,
        alert_threshold=request.alert_threshold,
        static_baseline=static,
    )


def _optional_time(value: Any, field: str) -> int | None:
    return None if value is None else parse_time_ms(value, field)

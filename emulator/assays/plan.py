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


@dataclass(frozen=True)
class AssayPlan:
    iopath: tuple[str, int, int]
    summarizer: Summarizer
    baseline_model: str
    baseline_start_ms: int
    baseline_end_ms: int
    window_model: str
    width_ms: int
    interval_ms: int
    window_start_ms: int
    run_until_ms: int | None
    warning_threshold: float | None
    alert_threshold: float


def plan_assay(request: AssayRequest) -> AssayPlan:
    """Check every field that numbers depend on; AssayConfigError names the first bad one."""
    fixed = request.baseline.Fixed
    baseline_start = parse_time_ms(fixed.start_at, "baseline.Fixed.start_at")
    baseline_end = parse_time_ms(fixed.end_at, "baseline.Fixed.end_at")
    if baseline_end <= baseline_start:
        raise AssayConfigError("baseline.Fixed.end_at", "must be after start_at")
    window = request.window
    width = parse_duration_ms(window.width, "window.width")
    interval = parse_duration_ms(window.interval, "window.interval") if window.interval else width
    start = parse_time_ms(window.start, "window.start") if window.start else baseline_end
    run_until = parse_time_ms(request.run_until, "run_until") if request.run_until else None
    if request.alert_threshold < 0:
        raise AssayConfigError("alert_threshold", "must be a number >= 0")
    return AssayPlan(
        iopath=parse_iopath(request.iopath),
        summarizer=Summarizer.from_request(request.summarizer),
        baseline_model=fixed.model,
        baseline_start_ms=baseline_start,
        baseline_end_ms=baseline_end,
        window_model=window.model,
        width_ms=width,
        interval_ms=interval,
        window_start_ms=start,
        run_until_ms=run_until,
        warning_threshold=request.warning_threshold,
        alert_threshold=request.alert_threshold,
    )

"""v1 assays as today's Wallaroo speaks them (the "current" API mode).

Requests: the baseline is `{"calculated": {"fixed_window": {...}}}` or `{"static": {...}}` and
the window `{path, pipeline_name, width, workspace_id, model_name?, interval?, start?,
locations?}`; they are normalized into the tutorial's request (plan.StoredAssayRequest) so that
one planner and one scheduler serve both generations, and rendered back in today's shapes.
Results are stored in the tutorial's shape and rendered here without name, pipeline_name and
iopath, with analyzed_at, summarizer, bin_index, the workspace and RFC 3339 created_at.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

from emulator.assays.config import (
    AssayConfigError,
    format_time_z,
    parse_duration_ms,
    parse_time_ms,
)
from emulator.assays.iopaths import iopath_to_path, path_to_iopath
from emulator.assays.plan import AssayPlan, StoredAssayRequest
from emulator.clock import iso

_UNITS = (("week", 604_800_000), ("day", 86_400_000), ("hour", 3_600_000), ("minute", 60_000))


class CurrentWindow(BaseModel):
    """Today's window, and the `fixed_window` of a calculated baseline."""

    model_config = ConfigDict(extra="allow")

    path: StrictStr
    pipeline_name: StrictStr
    width: StrictStr
    workspace_id: StrictInt
    interval: StrictStr | None = None
    model_name: StrictStr | None = None
    start: StrictStr | None = None
    locations: list[StrictStr] | None = None


class CurrentAssayBody(BaseModel):
    """Today's assays/create and run_interactive body (the fields the emulator reads)."""

    model_config = ConfigDict(extra="allow")

    name: StrictStr
    window: CurrentWindow
    baseline: dict[str, Any]
    created_at: StrictStr


def is_tutorial_body(body: Any) -> bool:
    """The tutorial's request names an iopath; today's puts the path in its window (and a real
    server ignores fields it does not know, so an iopath beside such a window changes nothing)."""
    if not isinstance(body, dict) or "iopath" not in body:
        return False
    window = body.get("window")
    return not (isinstance(window, dict) and "path" in window)


def duration_text(ms: int) -> str:
    """86_400_000 -> "1 day": the largest unit that divides it (a whole number of minutes)."""
    for unit, size in _UNITS:
        if ms % size == 0:
            count = ms // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    raise AssayConfigError("window.width", "must be a whole number of minutes")


def normalize(raw: dict[str, Any]) -> dict[str, Any]:
    """Today's body (checked by CurrentAssayBody first) as a StoredAssayRequest dict."""
    body = CurrentAssayBody.model_validate(raw)
    parse_time_ms(body.created_at, "created_at")
    window = body.window
    iopath = path_to_iopath(window.path)
    stored = {
        **raw,
        "iopath": iopath,
        "window": {
            "pipeline": window.pipeline_name,
            "model": window.model_name,
            "width": window.width,
            "start": window.start,
            "interval": window.interval,
        },
        "baseline": _tutorial_baseline(body.baseline),
        # Kept as given, to be listed back as given.
        "current_window": window.model_dump(exclude_unset=True),
        "current_baseline": body.baseline,
    }
    return stored


def _tutorial_baseline(baseline: dict[str, Any]) -> dict[str, Any]:
    if set(baseline) == {"static"}:
        return {"static": baseline["static"]}
    calculated = baseline.get("calculated") if set(baseline) == {"calculated"} else None
    if not isinstance(calculated, dict) or set(calculated) != {"fixed_window"}:
        raise AssayConfigError(
            "baseline",
            "expected {'calculated': {'fixed_window': {...}}} or {'static': {...}} (the emulator"
            " does not compute vector or sliding_window baselines)",
        )
    fixed = CurrentWindow.model_validate(calculated["fixed_window"])
    field = "baseline.calculated.fixed_window"
    if fixed.start is None:
        raise AssayConfigError(f"{field}.start", "required: when the baseline window begins")
    start = parse_time_ms(fixed.start, f"{field}.start")
    end = start + parse_duration_ms(fixed.width, f"{field}.width")
    return {
        "Fixed": {
            "pipeline": fixed.pipeline_name,
            "model": fixed.model_name,
            "start_at": format_time_z(start),
            "end_at": format_time_z(end),
        }
    }


def current_window(request: StoredAssayRequest) -> dict[str, Any]:
    given = getattr(request, "current_window", None)
    if given is not None:
        return given
    window = request.window
    return {
        "path": iopath_to_path(request.iopath),
        "pipeline_name": window.pipeline,
        "width": window.width,
        "workspace_id": request.workspace_id,
        "interval": window.interval,
        "model_name": window.model,
        "start": window.start,
    }


def current_baseline(request: StoredAssayRequest, plan: AssayPlan) -> dict[str, Any]:
    given = getattr(request, "current_baseline", None)
    if given is not None:
        return given
    fixed = request.baseline.Fixed
    assert fixed is not None  # a tutorial request always has one
    fixed_window = {
        "path": iopath_to_path(request.iopath),
        "pipeline_name": fixed.pipeline,
        "width": duration_text(plan.baseline_end_ms - plan.baseline_start_ms),
        "workspace_id": request.workspace_id,
        "model_name": fixed.model,
        "start": fixed.start_at,
    }
    return {"calculated": {"fixed_window": fixed_window}}


def render_result(
    record: dict[str, Any], result_id: int, workspace_id: int, workspace_name: str
) -> dict[str, Any]:
    """A stored (tutorial-shaped) result as get_assay_results answers it today."""
    created = iso(record["created_at"] / 1000)
    return {
        "id": result_id,
        "assay_id": record["assay_id"],
        "window_start": record["window_start"],
        "analyzed_at": created,
        "elapsed_millis": record["elapsed_millis"],
        "pipeline_id": record["pipeline_id"],
        "workspace_id": workspace_id,
        "workspace_name": workspace_name,
        "baseline_summary": record["baseline_summary"],
        "window_summary": record["window_summary"],
        "warning_threshold": record["warning_threshold"],
        "alert_threshold": record["alert_threshold"],
        "score": record["score"],
        "scores": record["scores"],
        "bin_index": record["index"],
        "summarizer": record["summarizer_meta"],
        "status": record["status"],
        "created_at": created,
    }


def render_listed(
    row: Any, request: StoredAssayRequest, plan: AssayPlan, workspace_name: str
) -> dict[str, Any]:
    """An assays/list (and get_assay_by_id) item in today's shape."""
    return {
        "id": row["id"],
        "name": row["name"],
        "active": bool(row["active"]),
        "status": row["status"],
        "alert_threshold": request.alert_threshold,
        "warning_threshold": request.warning_threshold,
        "pipeline_id": row["pipeline_id"],
        "pipeline_name": row["pipeline_name"],
        "workspace_id": row["workspace_id"],
        "workspace_name": workspace_name,
        "next_run": iso((row["next_window_ms"] + plan.width_ms) / 1000),
        "last_run": row["last_run"],
        "run_until": request.run_until,
        "created_at": getattr(request, "created_at", None),
        "updated_at": row["updated_at"],
        "baseline": current_baseline(request, plan),
        "window": current_window(request),
        "summarizer": request.summarizer,
    }

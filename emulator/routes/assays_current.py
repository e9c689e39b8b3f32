"""v1 assay calls only today's Wallaroo has ("current" mode; a 404 in "seed" mode):
get_assay_results (start and end required), summarize, get_assay_by_id."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StrictInt, StrictStr, ValidationError

from emulator.access import workspace_for
from emulator.assays import current_v1
from emulator.assays.config import AssayConfigError, Summarizer, parse_duration_ms, parse_time_ms
from emulator.assays.iopaths import path_to_iopath
from emulator.assays.runs import select_series, values_between
from emulator.assays.schedule import catch_up, stored_plan
from emulator.assays.summaries import compute_baseline
from emulator.errors import bad_request, describe_errors, not_found
from emulator.identity import context
from emulator.routes.assay_listing import workspace_name
from emulator.routes.assays import assay_row, is_current, parse_body
from emulator.state import EmulatorState

router = APIRouter(prefix="/v1/api/assays")


class GetAssayResults(BaseModel):
    assay_id: StrictInt
    start: StrictStr
    end: StrictStr
    workspace_id: StrictInt | None = None
    workspace_name: StrictStr | None = None


class AssayById(BaseModel):
    id: StrictInt
    workspace_id: StrictInt | None = None
    workspace_name: StrictStr | None = None


class Summarize(BaseModel):
    summarizer: dict[str, Any]
    baseline: dict[str, Any]


def _current_only(state: EmulatorState) -> None:
    if not is_current(state):
        # As a server without the route answers: clients tell "no such call" by it.
        raise not_found("Not Found")


@router.post("/get_assay_results")
async def get_assay_results(request: Request) -> JSONResponse:
    """Results whose window starts in [start, end), oldest first, in today's shape."""
    state, caller = context(request)
    _current_only(state)
    body = await parse_body(request, GetAssayResults)
    row = assay_row(state, caller, body.assay_id)
    try:
        start, end = parse_time_ms(body.start, "start"), parse_time_ms(body.end, "end")
    except AssayConfigError as exc:
        raise bad_request(str(exc)) from exc
    catch_up(state, row)
    stored = state.db.all(
        "SELECT id, result FROM assay_results WHERE assay_id = ? AND window_start_ms >= ?"
        " AND window_start_ms < ? ORDER BY window_start_ms",
        (body.assay_id, start, end),
    )
    name = workspace_name(state, row)
    return JSONResponse(
        [
            current_v1.render_result(json.loads(s["result"]), s["id"], row["workspace_id"], name)
            for s in stored
        ]
    )


@router.post("/get_assay_by_id")
async def get_assay_by_id(request: Request) -> JSONResponse:
    state, caller = context(request)
    _current_only(state)
    body = await parse_body(request, AssayById)
    row = assay_row(state, caller, body.id)
    catch_up(state, row)
    row = assay_row(state, caller, body.id)
    request_, plan = stored_plan(row)
    return JSONResponse(current_v1.render_listed(row, request_, plan, workspace_name(state, row)))


@router.post("/summarize")
async def summarize(request: Request) -> JSONResponse:
    """A baseline's summary (v1 static shape) from a fixed window of the logs or a vector."""
    state, caller = context(request)
    _current_only(state)
    body = await parse_body(request, Summarize)
    try:
        summarizer = Summarizer.from_request({"type": "UnivariateContinuous", **body.summarizer})
        values, start, end = _baseline_values(state, caller, body.baseline)
        summary = compute_baseline(values, summarizer, start or 0, end or 0).summary
    except ValidationError as exc:
        raise bad_request(describe_errors(exc.errors())) from exc
    except AssayConfigError as exc:
        raise bad_request(str(exc)) from exc
    if start is None:
        summary |= {"start": None, "end": None}
    return JSONResponse(summary)


def _baseline_values(
    state: EmulatorState, caller: Any, baseline: dict[str, Any]
) -> tuple[np.ndarray, int | None, int | None]:
    if set(baseline) == {"vector"} and isinstance(baseline["vector"], list):
        vector = [np.nan if v is None else v for v in baseline["vector"]]
        return np.array(vector, dtype=np.float64), None, None
    fixed = baseline.get("fixed_window") if set(baseline) == {"fixed_window"} else None
    if not isinstance(fixed, dict):
        raise AssayConfigError(
            "baseline", "expected {'fixed_window': {...}} or {'vector': [...]} (no sliding_window)"
        )
    window = current_v1.CurrentWindow.model_validate(fixed)
    field = "baseline.fixed_window"
    if window.start is None:
        raise AssayConfigError(f"{field}.start", "required: when the baseline window begins")
    workspace_for(state.db, caller, window.workspace_id)
    start = parse_time_ms(window.start, f"{field}.start")
    end = start + parse_duration_ms(window.width, f"{field}.width")
    iopath = path_to_iopath(window.path, f"{field}.path")
    kind, tensor, element = iopath.split()
    series = select_series(
        state.logs, window.pipeline_name, window.model_name, (kind, int(tensor), int(element))
    )
    return values_between(series, start, end), start, end

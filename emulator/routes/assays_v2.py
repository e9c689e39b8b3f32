"""Assays v2 (`/v2/api/assays/*`), served in the "current" API mode only: the 2022 tutorial's
Wallaroo had none, so in "seed" mode every call is a 404."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StrictBool, StrictInt, StrictStr, ValidationError

from emulator.access import membership, pipeline_for, workspace_for
from emulator.assays import v2_store
from emulator.assays.config import AssayConfigError, parse_time_ms
from emulator.assays.v2_config import PreviewBody, ScheduleBody, Targeting, check_config
from emulator.assays.v2_runs import compute_baselines, summary_baseline
from emulator.errors import bad_request, describe_errors, not_found
from emulator.identity import CurrentUser, context
from emulator.state import EmulatorState

router = APIRouter(prefix="/v2/api/assays")

Body = TypeVar("Body", bound=BaseModel)


class GetAssays(BaseModel):
    active: Literal["ActiveOnly", "InactiveOnly", "All"]
    pipeline_name: StrictStr | None = None
    workspace_id: StrictInt | None = None


class AssayId(BaseModel):
    id: uuid.UUID


class GetResults(BaseModel):
    id: uuid.UUID
    start: StrictStr | None = None
    end: StrictStr | None = None
    workspace_id: StrictInt | None = None
    debug: StrictBool | None = None


class SetActive(BaseModel):
    assay_id: uuid.UUID
    active: StrictBool


class NextRun(BaseModel):
    assay_id: uuid.UUID


class BaselineBinning(BaseModel):
    baseline: dict[str, Any]
    summarizer: dict[str, Any]
    targeting: Targeting


async def _call(request: Request, model: type[Body]) -> tuple[EmulatorState, CurrentUser, Body]:
    """The state, the caller and the parsed body of a v2 call; 404 outside "current" mode."""
    state, caller = context(request)
    if state.config.api != "current":
        # As a server without the route answers: clients tell "no such call" by it.
        raise not_found("Not Found")
    try:
        return state, caller, model.model_validate_json(await request.body())
    except ValidationError as exc:
        raise bad_request(describe_errors(exc.errors())) from exc


def _config_error(exc: AssayConfigError) -> Exception:
    return bad_request(str(exc))


def _check_origin(state: EmulatorState, caller: CurrentUser, targeting: Targeting) -> None:
    origin = targeting.data_origin
    pipeline = pipeline_for(state.db, caller, origin.pipeline_id)
    if pipeline["name"] != origin.pipeline_name:
        raise bad_request(
            f"targeting.data_origin.pipeline_name {origin.pipeline_name!r} is not the name of"
            f" pipeline {origin.pipeline_id} ({pipeline['name']!r})"
        )
    if pipeline["workspace_id"] != origin.workspace_id:
        raise bad_request(
            f"pipeline {origin.pipeline_id} is not in workspace {origin.workspace_id}"
        )


def _assay_row(state: EmulatorState, caller: CurrentUser, assay_id: uuid.UUID) -> sqlite3.Row:
    row = state.db.one("SELECT * FROM assays_v2 WHERE id = ?", (str(assay_id),))
    if row is None:
        raise not_found(f"assay {assay_id} not found")
    workspace_for(state.db, caller, row["workspace_id"])
    return row


def _workspace_name(state: EmulatorState, workspace_id: int) -> str:
    row = state.db.one("SELECT name FROM workspaces WHERE id = ?", (workspace_id,))
    return row["name"] if row else ""


@router.post("/schedule")
async def schedule(request: Request) -> JSONResponse:
    state, caller, body = await _call(request, ScheduleBody)
    _check_origin(state, caller, body.targeting)
    try:
        assay_id = v2_store.schedule(state, body)
    except AssayConfigError as exc:
        raise _config_error(exc) from exc
    return JSONResponse(assay_id)


@router.post("/get")
async def get_assays(request: Request) -> JSONResponse:
    state, caller, body = await _call(request, GetAssays)
    sql, params = "SELECT * FROM assays_v2 WHERE 1 = 1", []
    if body.active != "All":
        sql += " AND active = ?"
        params.append(int(body.active == "ActiveOnly"))
    if body.pipeline_name is not None:
        sql += " AND pipeline_name = ?"
        params.append(body.pipeline_name)
    if body.workspace_id is not None:
        workspace_for(state.db, caller, body.workspace_id)
        sql += " AND workspace_id = ?"
        params.append(body.workspace_id)
    rows = state.db.all(sql + " ORDER BY created_at, id", params)
    visible = [
        r
        for r in rows
        if caller.is_admin or membership(state.db, r["workspace_id"], caller.id) is not None
    ]
    return JSONResponse([v2_store.render_assay(r) for r in visible])


@router.post("/get/:id")
async def get_assay(request: Request) -> JSONResponse:
    state, caller, body = await _call(request, AssayId)
    return JSONResponse(v2_store.render_assay(_assay_row(state, caller, body.id)))


@router.post("/get_results")
async def get_results(request: Request) -> JSONResponse:
    """Results whose window ENDS in [start, end), as the spec's GetResultsBody says."""
    state, caller, body = await _call(request, GetResults)
    row = _assay_row(state, caller, body.id)
    if body.workspace_id is not None and body.workspace_id != row["workspace_id"]:
        raise not_found(f"assay {body.id} is not in workspace {body.workspace_id}")
    try:
        start = parse_time_ms(body.start, "start") if body.start else None
        end = parse_time_ms(body.end, "end") if body.end else None
    except AssayConfigError as exc:
        raise _config_error(exc) from exc
    v2_store.catch_up(state, row)
    sql, params = "SELECT id, result FROM assay_v2_results WHERE assay_id = ?", [row["id"]]
    if start is not None:
        sql += " AND window_end_ms >= ?"
        params.append(start)
    if end is not None:
        sql += " AND window_end_ms < ?"
        params.append(end)
    workspace_name = _workspace_name(state, row["workspace_id"])
    results = []
    for stored in state.db.all(sql + " ORDER BY window_start_ms", params):
        result = json.loads(stored["result"])
        results.append({"id": stored["id"], **result, "workspace_name": workspace_name})
    return JSONResponse(results)


@router.post("/set_active")
async def set_active(request: Request) -> JSONResponse:
    state, caller, body = await _call(request, SetActive)
    v2_store.set_active(state, _assay_row(state, caller, body.assay_id), body.active)
    return JSONResponse(None)


@router.post("/get_next_run")
async def get_next_run(request: Request) -> JSONResponse:
    state, caller, body = await _call(request, NextRun)
    row = _assay_row(state, caller, body.assay_id)
    v2_store.catch_up(state, row)
    return JSONResponse(v2_store.next_run(_assay_row(state, caller, body.assay_id)))


@router.post("/preview")
async def preview(request: Request) -> JSONResponse:
    state, caller, body = await _call(request, PreviewBody)
    _check_origin(state, caller, body.targeting)
    try:
        start = parse_time_ms(body.preview_start, "preview_start")
        end = parse_time_ms(body.preview_end, "preview_end")
        results = v2_store.preview(state, body, start, end)
    except AssayConfigError as exc:
        raise _config_error(exc) from exc
    workspace_name = _workspace_name(state, body.targeting.data_origin.workspace_id)
    return JSONResponse([{"id": 0, **r, "workspace_name": workspace_name} for r in results])


@router.post("/preview_baseline_binning")
async def preview_baseline_binning(request: Request) -> JSONResponse:
    """The baseline's summaries by iopath, as schedule would store them."""
    state, caller, body = await _call(request, BaselineBinning)
    _check_origin(state, caller, body.targeting)
    schedule_like = {
        "name": "preview",
        "baseline": body.baseline,
        "summarizer": body.summarizer,
        "targeting": body.targeting.model_dump(mode="json", exclude_unset=True),
        # Binning needs no schedule; these only satisfy the shared checks.
        "scheduling": {
            "first_run": "1970-01-01T00:00:00+00:00",
            "run_frequency": {"SimpleRunFrequency": {"quantity": 1, "unit": "Day"}},
        },
        "window": {"width": {"seconds": 86400}},
    }
    try:
        config = check_config(ScheduleBody.model_validate(schedule_like))
        baselines = compute_baselines(state.logs, config)
    except ValidationError as exc:
        raise bad_request(describe_errors(exc.errors())) from exc
    except AssayConfigError as exc:
        raise _config_error(exc) from exc
    return JSONResponse(summary_baseline(config, baselines)["Summary"])

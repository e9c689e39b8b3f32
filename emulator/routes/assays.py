"""assays/create, list, set_active, run_interactive_baseline, get_baseline, run_interactive,
get_results."""

from __future__ import annotations

import json
import sqlite3
import time

import numpy as np
from fastapi import APIRouter, Request
from pydantic import BaseModel, StrictBool, StrictInt, StrictStr

from emulator.access import pipeline_for, workspace_for
from emulator.assays.config import AssayConfigError, parse_time_ms
from emulator.assays.plan import AssayPlan, AssayRequest, plan_assay
from emulator.assays.runs import (
    AssayIdentity,
    baseline_record,
    result_record,
    run_baseline,
    run_windows,
)
from emulator.assays.schedule import catch_up, catch_up_pipeline, skip_inactive_period, stored_plan
from emulator.clock import iso
from emulator.errors import bad_request, not_found
from emulator.identity import CurrentUser, context
from emulator.log_records import render_records
from emulator.state import EmulatorState

router = APIRouter(prefix="/v1/api/assays")

DEFAULT_BASELINE_LIMIT = 1000


class PipelineId(BaseModel):
    pipeline_id: StrictInt


class SetActive(BaseModel):
    id: StrictInt
    active: StrictBool


class GetBaseline(BaseModel):
    workspace_id: StrictInt
    pipeline_name: StrictStr
    start: StrictStr | None = None
    end: StrictStr | None = None
    model_name: StrictStr | None = None
    limit: StrictInt | None = None


class GetResults(BaseModel):
    assay_id: StrictInt
    start: StrictStr | None = None
    end: StrictStr | None = None
    limit: StrictInt | None = None
    pipeline_id: StrictInt | None = None


def time_filter(body: GetBaseline | GetResults) -> tuple[int | None, int | None]:
    """The optional start/end of a listing as epoch ms; also checks its limit."""
    if body.limit is not None and body.limit < 1:
        raise bad_request("limit must be at least 1")
    try:
        start = parse_time_ms(body.start, "start") if body.start else None
        end = parse_time_ms(body.end, "end") if body.end else None
    except AssayConfigError as exc:
        raise bad_request(str(exc)) from exc
    return start, end


def checked_plan(state: EmulatorState, caller: CurrentUser, body: AssayRequest) -> AssayPlan:
    """The plan of a request whose pipeline and workspace the caller may use."""
    pipeline = pipeline_for(state.db, caller, body.pipeline_id)
    if pipeline["name"] != body.pipeline_name:
        raise bad_request(
            f"pipeline_name {body.pipeline_name!r} is not the name of pipeline "
            f"{body.pipeline_id} ({pipeline['name']!r})"
        )
    if pipeline["workspace_id"] != body.workspace_id:
        raise bad_request(f"pipeline {body.pipeline_id} is not in workspace {body.workspace_id}")
    try:
        return plan_assay(body)
    except AssayConfigError as exc:
        raise bad_request(str(exc)) from exc


def assay_row(state: EmulatorState, caller: CurrentUser, assay_id: int) -> sqlite3.Row:
    row = state.db.one("SELECT * FROM assays WHERE id = ?", (assay_id,))
    if row is None:
        raise not_found(f"assay {assay_id} not found")
    pipeline_for(state.db, caller, row["pipeline_id"])
    return row


def identity(body: AssayRequest) -> AssayIdentity:
    return AssayIdentity(body.id, body.name, body.pipeline_id, body.pipeline_name, body.iopath)


def render_assay(row: sqlite3.Row) -> dict:
    request, plan = stored_plan(row)
    return {
        "id": row["id"],
        "name": row["name"],
        "active": bool(row["active"]),
        "status": row["status"],
        "warning_threshold": request.warning_threshold,
        "alert_threshold": request.alert_threshold,
        "pipeline_id": row["pipeline_id"],
        "pipeline_name": row["pipeline_name"],
        "last_run": row["last_run"],
        "next_run": iso((row["next_window_ms"] + plan.width_ms) / 1000),
        "run_until": request.run_until,
        "updated_at": row["updated_at"],
        "baseline": request.baseline.model_dump(),
        "window": request.window.model_dump(),
        "summarizer": request.summarizer,
        # Not in the tutorial's listing; newer servers send it, and a re-run needs it.
        "iopath": request.iopath,
    }


@router.post("/create")
async def create_assay(body: AssayRequest, request: Request) -> dict:
    state, caller = context(request)
    plan = checked_plan(state, caller, body)
    assay_id = state.db.insert(
        "INSERT INTO assays (name, workspace_id, pipeline_id, pipeline_name, active, status,"
        " config, updated_at, next_window_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            body.name,
            body.workspace_id,
            body.pipeline_id,
            body.pipeline_name,
            int(body.active),
            body.status,
            body.model_dump_json(),
            iso(state.clock.now()),
            plan.window_start_ms,
        ),
    )
    return {"assay_id": assay_id}


@router.post("/list")
async def list_assays(body: PipelineId, request: Request) -> list[dict]:
    state, caller = context(request)
    pipeline_for(state.db, caller, body.pipeline_id)
    catch_up_pipeline(state, body.pipeline_id)
    rows = state.db.all(
        "SELECT * FROM assays WHERE pipeline_id = ? ORDER BY id DESC", (body.pipeline_id,)
    )
    return [render_assay(row) for row in rows]


@router.post("/set_active")
async def set_active(body: SetActive, request: Request) -> dict:
    state, caller = context(request)
    row = assay_row(state, caller, body.id)
    if bool(row["active"]) != body.active:
        if body.active:
            next_window = skip_inactive_period(state, row)
        else:
            catch_up(state, row)  # windows completed while it was active still count
            next_window = assay_row(state, caller, body.id)["next_window_ms"]
        state.db.execute(
            "UPDATE assays SET active = ?, next_window_ms = ?, updated_at = ? WHERE id = ?",
            (int(body.active), next_window, iso(state.clock.now()), body.id),
        )
    return {"id": body.id, "active": body.active}


@router.post("/run_interactive_baseline")
async def run_interactive_baseline(body: AssayRequest, request: Request) -> dict:
    state, caller = context(request)
    plan = checked_plan(state, caller, body)
    started = time.perf_counter()
    try:
        baseline = run_baseline(state.logs, body.pipeline_name, plan)
    except AssayConfigError as exc:
        raise bad_request(str(exc)) from exc
    return baseline_record(identity(body), plan, baseline, state.clock.now_ms(), started)


@router.post("/run_interactive")
async def run_interactive(body: AssayRequest, request: Request) -> list[dict]:
    state, caller = context(request)
    plan = checked_plan(state, caller, body)
    started = time.perf_counter()
    now_ms = state.clock.now_ms()
    try:
        baseline = run_baseline(state.logs, body.pipeline_name, plan)
        windows = run_windows(
            state.logs, body.pipeline_name, plan, baseline, plan.window_start_ms, now_ms
        )
    except AssayConfigError as exc:
        raise bad_request(str(exc)) from exc
    who = identity(body)
    return [result_record(who, plan, baseline, w, now_ms, started) for w in windows]


@router.post("/get_baseline")
async def get_baseline(body: GetBaseline, request: Request) -> list[dict]:
    state, caller = context(request)
    workspace_for(state.db, caller, body.workspace_id)
    exists = state.db.one(
        "SELECT 1 FROM pipelines WHERE workspace_id = ? AND name = ?",
        (body.workspace_id, body.pipeline_name),
    )
    if exists is None:
        raise not_found(f"pipeline {body.pipeline_name} not found in workspace {body.workspace_id}")
    start, end = time_filter(body)
    if not state.logs.has(body.pipeline_name):
        return []
    log = state.logs.pipeline(body.pipeline_name)
    cols = log.columns()
    lo = 0 if start is None else int(np.searchsorted(cols.times, start, side="left"))
    hi = len(cols) if end is None else int(np.searchsorted(cols.times, end, side="left"))
    rows = np.arange(lo, hi)
    if body.model_name is not None:
        codes = [c for c, (name, _) in enumerate(log.models) if name == body.model_name]
        rows = rows[np.isin(cols.model_codes[lo:hi], codes)]
    rows = rows[: body.limit or DEFAULT_BASELINE_LIMIT]
    return render_records(log, body.pipeline_name, rows)


@router.post("/get_results")
async def get_results(body: GetResults, request: Request) -> list[dict]:
    state, caller = context(request)
    row = assay_row(state, caller, body.assay_id)
    if body.pipeline_id is not None and body.pipeline_id != row["pipeline_id"]:
        raise not_found(f"assay {body.assay_id} is not on pipeline {body.pipeline_id}")
    start, end = time_filter(body)
    catch_up(state, row)
    sql = "SELECT id, result FROM assay_results WHERE assay_id = ?"
    params: list[int] = [body.assay_id]
    if start is not None:
        sql += " AND window_start_ms >= ?"
        params.append(start)
    if end is not None:
        sql += " AND window_start_ms < ?"
        params.append(end)
    sql += " ORDER BY window_start_ms"
    if body.limit is not None:
        sql += " LIMIT ?"
        params.append(body.limit)
    results = []
    for stored in state.db.all(sql, params):
        result = json.loads(stored["result"])
        result["id"] = stored["id"]
        result["analyzed_at"] = iso(result["created_at"] / 1000)
        results.append(result)
    return results

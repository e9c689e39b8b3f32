"""v1 assays: create, set_active, get_baseline, run_interactive (list is in assay_listing.py);
the tutorial's run_interactive_baseline and get_results in "seed" mode, today's
get_assay_results, summarize and get_assay_by_id in "current" mode (whose shapes are in
emulator/assays/current_v1.py)."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import TypeVar

import numpy as np
from fastapi import APIRouter, Request
from pydantic import BaseModel, StrictBool, StrictInt, StrictStr, ValidationError

from emulator.access import pipeline_for, workspace_for
from emulator.assays import current_v1
from emulator.assays.config import AssayConfigError, parse_time_ms
from emulator.assays.plan import AssayPlan, AssayRequest, StoredAssayRequest, plan_assay
from emulator.assays.runs import (
    AssayIdentity,
    baseline_record,
    result_record,
    run_baseline,
    run_windows,
)
from emulator.assays.schedule import catch_up, skip_inactive_period
from emulator.clock import iso
from emulator.errors import bad_request, describe_errors, not_found
from emulator.identity import CurrentUser, context
from emulator.log_records import render_records
from emulator.state import EmulatorState

router = APIRouter(prefix="/v1/api/assays")

# The schema FastAPI would show for the tutorial's body, kept in the OpenAPI doc now that the
# routes parse it themselves (to take today's shape too).
_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": AssayRequest.model_json_schema()}},
    }
}

DEFAULT_BASELINE_LIMIT = 1000


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
    locations: list[StrictStr] | None = None  # required by today's Wallaroo


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


Body = TypeVar("Body", bound=BaseModel)


async def parse_body(request: Request, model: type[Body]) -> Body:
    """A body parsed in one pydantic pass, with FastAPI's 400 messages."""
    raw = await request.body()
    if not raw:
        raise bad_request("body is required")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise bad_request(describe_errors(exc.errors())) from exc


def is_current(state: EmulatorState) -> bool:
    return state.config.api == "current"


def seed_only(state: EmulatorState) -> None:
    if is_current(state):
        # As a server without the route answers: clients tell "no such call" by it.
        raise not_found("Not Found")


async def assay_request(request: Request) -> AssayRequest:
    """The body of create / run_interactive / run_interactive_baseline: the tutorial's shape,
    or in "current" mode also today's (normalized into the tutorial's)."""
    state, _ = context(request)
    raw = await request.body()
    try:
        if not raw:
            raise bad_request("body is required")
        if not is_current(state):
            return AssayRequest.model_validate_json(raw)
        body = json.loads(raw)
        if current_v1.is_tutorial_body(body) or not isinstance(body, dict):
            return StoredAssayRequest.model_validate(body)
        return StoredAssayRequest.model_validate(current_v1.normalize(body))
    except json.JSONDecodeError as exc:
        raise bad_request("the body is not valid JSON") from exc
    except ValidationError as exc:
        raise bad_request(describe_errors(exc.errors())) from exc
    except AssayConfigError as exc:
        raise bad_request(str(exc)) from exc


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


@router.post("/create", openapi_extra=_REQUEST_BODY)
async def create_assay(request: Request) -> dict:
    body = await assay_request(request)
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


@router.post("/run_interactive_baseline", openapi_extra=_REQUEST_BODY)
async def run_interactive_baseline(request: Request) -> dict:
    state, caller = context(request)
    seed_only(state)  # today's SDK calls assays/summarize instead
    body = await assay_request(request)
    plan = checked_plan(state, caller, body)
    started = time.perf_counter()
    try:
        baseline = run_baseline(state.logs, body.pipeline_name, plan)
    except AssayConfigError as exc:
        raise bad_request(str(exc)) from exc
    return baseline_record(identity(body), plan, baseline, state.clock.now_ms(), started)


@router.post("/run_interactive", openapi_extra=_REQUEST_BODY)
async def run_interactive(request: Request) -> list[dict]:
    body = await assay_request(request)
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
    results = [result_record(who, plan, baseline, w, now_ms, started) for w in windows]
    if not is_current(state):
        return results
    workspace = workspace_for(state.db, caller, body.workspace_id)
    return [
        current_v1.render_result(r, None, body.workspace_id, workspace["name"]) for r in results
    ]


@router.post("/get_baseline")
async def get_baseline(body: GetBaseline, request: Request) -> list[dict]:
    state, caller = context(request)
    if is_current(state) and body.locations is None:
        raise bad_request("locations is required (a list of edge locations; [] for all)")
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
    seed_only(state)  # today's path is get_assay_results (routes/assays_current.py)
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

"""v1 `assays/list`, in both API modes: the tutorial's listing of one pipeline's assays
("seed"), or today's by pipeline, by workspace (id or name) or all visible ones, in today's
item shape (emulator/assays/current_v1.py)."""

from __future__ import annotations

import sqlite3

from fastapi import APIRouter, Request
from pydantic import BaseModel, StrictInt, StrictStr

from emulator.access import membership, pipeline_for, workspace_for
from emulator.assays import current_v1
from emulator.assays.plan import AssayRequest
from emulator.assays.schedule import catch_up, catch_up_pipeline, stored_plan
from emulator.clock import iso
from emulator.errors import not_found
from emulator.identity import CurrentUser, context
from emulator.routes.assays import is_current, parse_body
from emulator.state import EmulatorState

router = APIRouter(prefix="/v1/api/assays")


class PipelineId(BaseModel):
    pipeline_id: StrictInt


class ListAssays(BaseModel):
    pipeline_id: StrictInt | None = None
    workspace_id: StrictInt | None = None
    workspace_name: StrictStr | None = None


def _tutorial_baseline(request: AssayRequest) -> dict:
    fixed = request.baseline.Fixed
    if fixed is None:  # made in "current" mode from a static summary
        return {"static": getattr(request.baseline, "static", None)}
    return {"Fixed": fixed.model_dump()}


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
        "baseline": _tutorial_baseline(request),
        "window": request.window.model_dump(),
        "summarizer": request.summarizer,
        # Not in the tutorial's listing; newer servers send it, and a re-run needs it.
        "iopath": request.iopath,
    }


@router.post("/list")
async def list_assays(request: Request) -> list[dict]:
    state, caller = context(request)
    if is_current(state):
        body = await parse_body(request, ListAssays)
        rows = listed_assays(state, caller, body)
        return [
            current_v1.render_listed(row, *stored_plan(row), workspace_name(state, row))
            for row in rows
        ]
    body = await parse_body(request, PipelineId)
    pipeline_for(state.db, caller, body.pipeline_id)
    catch_up_pipeline(state, body.pipeline_id)
    rows = state.db.all(
        "SELECT * FROM assays WHERE pipeline_id = ? ORDER BY id DESC", (body.pipeline_id,)
    )
    return [render_assay(row) for row in rows]


def listed_assays(state: EmulatorState, caller: CurrentUser, body: ListAssays) -> list[sqlite3.Row]:
    """Today's listing: by pipeline, by workspace (id or name), or every visible one."""
    if body.pipeline_id is not None:
        pipeline_for(state.db, caller, body.pipeline_id)
        sql, params = "SELECT * FROM assays WHERE pipeline_id = ?", [body.pipeline_id]
    else:
        sql, params = "SELECT * FROM assays WHERE 1 = 1", []
    workspace_id = body.workspace_id
    if workspace_id is None and body.workspace_name is not None:
        named = state.db.one("SELECT id FROM workspaces WHERE name = ?", (body.workspace_name,))
        if named is None:
            raise not_found(f"workspace {body.workspace_name!r} not found")
        workspace_id = named["id"]
    if workspace_id is not None:
        workspace_for(state.db, caller, workspace_id)
        sql += " AND workspace_id = ?"
        params.append(workspace_id)
    rows = state.db.all(sql + " ORDER BY id DESC", params)
    visible = [
        r for r in rows if caller.is_admin or membership(state.db, r["workspace_id"], caller.id)
    ]
    for row in visible:
        catch_up(state, row)
    return [state.db.one("SELECT * FROM assays WHERE id = ?", (r["id"],)) for r in visible]


def workspace_name(state: EmulatorState, row: sqlite3.Row) -> str:
    found = state.db.one("SELECT name FROM workspaces WHERE id = ?", (row["workspace_id"],))
    return found["name"] if found else ""

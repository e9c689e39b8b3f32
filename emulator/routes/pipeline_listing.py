"""pipelines/list_pipelines (both modes), and today's list_pipeline_versions and
get_pipeline_by_name."""

from __future__ import annotations

import sqlite3

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, StrictInt, StrictStr

from emulator.access import membership, workspace_for
from emulator.db import Database
from emulator.errors import not_found
from emulator.identity import CurrentUser, context
from emulator.lookups import workspace_named
from emulator.pipeline_shapes import (
    PIPELINE_SQL,
    render_listing_today,
    render_pipeline_today,
    render_seed_listing,
    render_versions_today,
)
from emulator.state import EmulatorState, current_api_only

router = APIRouter(prefix="/v1/api/pipelines")


class ListPipelines(BaseModel):
    workspace_id: StrictInt | None = None
    # Today's body may name the workspace instead (the seed ignores it, as it always did).
    workspace_name: StrictStr | None = None


class PipelineByName(BaseModel):
    pipeline_name: StrictStr
    workspace_id: StrictInt


class ListPipelineVersions(BaseModel):
    # The pipeline's NAME, despite the field's name.
    pipeline_id: StrictStr
    workspace_id: StrictInt


def _visible(db: Database, caller: CurrentUser, rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
    if caller.is_admin:
        return rows
    return [r for r in rows if membership(db, r["workspace_id"], caller.id)]


def _listed_rows(state: EmulatorState, caller: CurrentUser, body: ListPipelines) -> list:
    db = state.db
    if body.workspace_id is not None:
        workspace_for(db, caller, body.workspace_id)
        return db.all(
            PIPELINE_SQL + " WHERE p.workspace_id = ? ORDER BY p.id", (body.workspace_id,)
        )
    if body.workspace_name is not None and state.current_api:
        workspace = workspace_named(db, caller, body.workspace_name)
        return db.all(PIPELINE_SQL + " WHERE p.workspace_id = ? ORDER BY p.id", (workspace["id"],))
    return _visible(db, caller, db.all(PIPELINE_SQL + " ORDER BY p.id"))


@router.post("/list_pipelines")
async def list_pipelines(body: ListPipelines, request: Request) -> dict:
    """Not in the tutorial; the shape is the one Wallaroo's SDK reads."""
    state, caller = context(request)
    rows = _listed_rows(state, caller, body)
    if state.current_api:
        return {"pipelines": [render_listing_today(state.db, r) for r in rows]}
    return {"pipelines": [render_seed_listing(state.db, r) for r in rows]}


def _pipeline_named(
    state: EmulatorState, caller: CurrentUser, workspace_id: int, name: str
) -> sqlite3.Row:
    workspace_for(state.db, caller, workspace_id)
    row = state.db.one(
        PIPELINE_SQL + " WHERE p.workspace_id = ? AND p.name = ?", (workspace_id, name)
    )
    if row is None:
        raise not_found(f"pipeline {name!r} not found in workspace {workspace_id}")
    return row


@router.post("/get_pipeline_by_name", dependencies=[Depends(current_api_only)])
async def get_pipeline_by_name(body: PipelineByName, request: Request) -> dict:
    state, caller = context(request)
    return render_pipeline_today(
        _pipeline_named(state, caller, body.workspace_id, body.pipeline_name)
    )


@router.post("/list_pipeline_versions", dependencies=[Depends(current_api_only)])
async def list_pipeline_versions(body: ListPipelineVersions, request: Request) -> dict:
    state, caller = context(request)
    row = _pipeline_named(state, caller, body.workspace_id, body.pipeline_id)
    return {"pipeline_versions": render_versions_today(state.db, row)}

"""models/upload, upload_and_convert, upload_stream, list, get_by_id, list_versions,
get_config_by_id, get."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StrictInt, StrictStr

from emulator.access import membership, model_for, workspace_for
from emulator.errors import not_found
from emulator.identity import CurrentUser, context
from emulator.lookups import workspace_named
from emulator.model_files import store_stream
from emulator.model_shapes import (
    OWNER_ID,
    WORKSPACE_COLUMNS,
    deployed_version_ids,
    render_listing_item,
    render_model,
    versions_of,
)
from emulator.model_uploads import check_upload, receive_upload, record_upload
from emulator.routes.bodies import parse_body
from emulator.state import EmulatorState, current_api_only

router = APIRouter(prefix="/v1/api/models")


class WorkspaceId(BaseModel):
    workspace_id: StrictInt


class ListModels(BaseModel):
    """Today's body: either of the two, or neither for every workspace the caller is in."""

    workspace_id: StrictInt | None = None
    workspace_name: StrictStr | None = None


class ModelId(BaseModel):
    id: StrictInt


class ModelConfigQuery(BaseModel):
    model_id: StrictInt


class ListVersions(BaseModel):
    model_id: StrictStr
    models_pk_id: StrictInt


async def _upload_multipart(request: Request, converting: bool = False) -> dict:
    state, caller = context(request)
    target, filename, stored = await receive_upload(request, converting)
    return record_upload(state, caller, target, filename or f"{target.name}.onnx", stored)


@router.post("/upload")
async def upload(request: Request) -> dict:
    """The tutorial's form fields (name, visibility, workspace_id) or today's `metadata` JSON
    part, each with a `file` part. Today's takes the frameworks it stores unconverted (onnx,
    tensorflow, python), as Wallaroo's SDK sends them."""
    return await _upload_multipart(request)


@router.post("/upload_and_convert", dependencies=[Depends(current_api_only)])
async def upload_and_convert(request: Request) -> JSONResponse:
    """Today's upload for frameworks Wallaroo converts, with the model's input and output
    schemas: accepted (202) and, here, converted at once."""
    return JSONResponse(await _upload_multipart(request, converting=True), status_code=202)


@router.post("/upload_stream")
async def upload_stream(
    request: Request,
    name: Annotated[str, Query()],
    filename: Annotated[str, Query()],
    workspace_id: Annotated[int, Query()],
    visibility: Annotated[str | None, Query()] = None,
) -> dict:
    state, caller = context(request)
    target = check_upload(state, caller, workspace_id, name, visibility)
    stored = await store_stream(state.model_dir, request.stream())
    return record_upload(state, caller, target, filename, stored)


@router.post("/list")
async def list_models(request: Request) -> dict:
    state, caller = context(request)
    if state.current_api:
        return _list_models_today(state, caller, await parse_body(request, ListModels))
    body = await parse_body(request, WorkspaceId)
    workspace_for(state.db, caller, body.workspace_id)
    rows = state.db.all(
        "SELECT * FROM models WHERE workspace_id = ? ORDER BY id DESC", (body.workspace_id,)
    )
    return {"models": [render_model(r) for r in rows]}


def _list_models_today(state: EmulatorState, caller: CurrentUser, body: ListModels) -> dict:
    db = state.db
    sql = (
        f"SELECT m.*, {WORKSPACE_COLUMNS} FROM models m JOIN workspaces w ON w.id = m.workspace_id"
    )
    if body.workspace_id is not None:
        workspace_for(db, caller, body.workspace_id)
        rows = db.all(sql + " WHERE m.workspace_id = ? ORDER BY m.id DESC", (body.workspace_id,))
    elif body.workspace_name is not None:
        workspace = workspace_named(db, caller, body.workspace_name)
        rows = db.all(sql + " WHERE m.workspace_id = ? ORDER BY m.id DESC", (workspace["id"],))
    else:
        rows = [
            r
            for r in db.all(sql + " ORDER BY m.id DESC")
            if caller.is_admin or membership(db, r["workspace_id"], caller.id) is not None
        ]
    deployed = deployed_version_ids(db)
    return {"models": [render_listing_item(db, r, deployed) for r in rows]}


@router.post("/get_by_id")
async def get_by_id(body: ModelId, request: Request) -> dict:
    state, caller = context(request)
    model = model_for(state.db, caller, body.id)
    return {
        "id": model["id"],
        "owner_id": OWNER_ID,
        "workspace_id": model["workspace_id"],
        "name": model["name"],
        "updated_at": model["updated_at"],
        "created_at": model["created_at"],
        "model_config": None,
    }


@router.post("/list_versions")
async def list_versions(body: ListVersions, request: Request) -> list[dict]:
    state, caller = context(request)
    db = state.db
    model = db.one(
        "SELECT * FROM models WHERE id = ? AND name = ?", (body.models_pk_id, body.model_id)
    )
    if model is not None:
        workspace_for(db, caller, model["workspace_id"])
        return versions_of(db, model, with_status=state.current_api)
    # The tutorial passes models_pk_id 0 and still gets the versions: match by name then.
    found = [
        m
        for m in db.all("SELECT * FROM models WHERE name = ? ORDER BY id", (body.model_id,))
        if caller.is_admin or membership(db, m["workspace_id"], caller.id) is not None
    ]
    if not found:
        raise not_found(f"model {body.model_id!r} not found")
    return [v for m in found for v in versions_of(db, m, with_status=state.current_api)]


@router.post("/get_config_by_id")
async def get_config_by_id(body: ModelConfigQuery, request: Request) -> dict:
    state, caller = context(request)
    # The MLOps API has no call that sets a model config, so every model's is null.
    model_for(state.db, caller, body.model_id)
    return {"model_config": None}


@router.post("/get")
async def get_model(body: ModelId, request: Request) -> dict:
    state, caller = context(request)
    model = model_for(state.db, caller, body.id)
    answer = {**render_model(model), "models": versions_of(state.db, model)}
    if state.current_api:
        workspace = state.db.one(
            "SELECT name FROM workspaces WHERE id = ?", (model["workspace_id"],)
        )
        answer["workspace"] = {"id": model["workspace_id"], "name": workspace["name"]}
    return answer

"""models/upload, upload_stream, list, get_by_id, list_versions, get_config_by_id, get."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from pydantic import BaseModel, StrictInt, StrictStr

from emulator.access import membership, model_for, require_valid_name, workspace_for
from emulator.clock import iso
from emulator.db import Database
from emulator.errors import bad_request, not_found
from emulator.identity import CurrentUser, context
from emulator.model_files import StoredFile, store_stream
from emulator.state import EmulatorState

router = APIRouter(prefix="/v1/api/models")

CHUNK_BYTES = 1 << 20
VISIBILITIES = ("public", "private")


class WorkspaceId(BaseModel):
    workspace_id: StrictInt


class ModelId(BaseModel):
    id: StrictInt


class ModelConfigQuery(BaseModel):
    model_id: StrictInt


class ListVersions(BaseModel):
    model_id: StrictStr
    models_pk_id: StrictInt


def render_model(row: sqlite3.Row) -> dict:
    # Real instances answer owner_id '""' here; the tutorial shows it so.
    return {
        "id": row["id"],
        "name": row["name"],
        "owner_id": '""',
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def render_version(row: sqlite3.Row, model_name: str) -> dict:
    return {
        "sha": row["sha"],
        "models_pk_id": row["models_pk_id"],
        "model_version": row["model_version"],
        "owner_id": '""',
        "model_id": model_name,
        "id": row["id"],
        "file_name": row["file_name"],
        "image_path": None,
    }


def versions_of(db: Database, model: sqlite3.Row) -> list[dict]:
    rows = db.all("SELECT * FROM model_versions WHERE models_pk_id = ? ORDER BY id", (model["id"],))
    return [render_version(r, model["name"]) for r in rows]


def _check_upload(
    state: EmulatorState, caller: CurrentUser, workspace_id: int, name: str, visibility: str | None
) -> str:
    workspace_for(state.db, caller, workspace_id)
    require_valid_name("name", name)
    visibility = visibility or "private"
    if visibility not in VISIBILITIES:
        raise bad_request(f"visibility must be 'public' or 'private', not {visibility!r}")
    return visibility


def _record_upload(
    state: EmulatorState,
    caller: CurrentUser,
    workspace_id: int,
    name: str,
    visibility: str,
    file_name: str,
    stored: StoredFile,
) -> dict:
    """Add the file as a new version of the named model (creating the model if new)."""
    db, now = state.db, iso(state.clock.now())
    try:
        with db.transaction():
            model = db.one(
                "SELECT id FROM models WHERE workspace_id = ? AND name = ?", (workspace_id, name)
            )
            if model is None:
                model_pk = db.insert(
                    "INSERT INTO models (workspace_id, name, owner_id, visibility, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (workspace_id, name, caller.id, visibility, now, now),
                )
            else:
                model_pk = model["id"]
                db.execute("UPDATE models SET updated_at = ? WHERE id = ?", (now, model_pk))
            db.execute(
                "INSERT INTO model_versions (models_pk_id, model_version, sha, file_name,"
                " file_path, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    model_pk,
                    str(uuid.uuid4()),
                    stored.sha256,
                    file_name,
                    str(stored.path),
                    stored.size,
                    now,
                ),
            )
    except BaseException:
        stored.path.unlink(missing_ok=True)
        raise
    return {"insert_models": {"returning": [{"models": [{"id": model_pk}]}]}}


@router.post("/upload")
async def upload(
    request: Request,
    name: Annotated[str, Form()],
    workspace_id: Annotated[int, Form()],
    file: Annotated[UploadFile, File()],
    visibility: Annotated[str | None, Form()] = None,
) -> dict:
    state, caller = context(request)
    visibility = _check_upload(state, caller, workspace_id, name, visibility)

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await file.read(CHUNK_BYTES):
            yield chunk

    stored = await store_stream(state.model_dir, chunks())
    file_name = file.filename or f"{name}.onnx"
    return _record_upload(state, caller, workspace_id, name, visibility, file_name, stored)


@router.post("/upload_stream")
async def upload_stream(
    request: Request,
    name: Annotated[str, Query()],
    filename: Annotated[str, Query()],
    workspace_id: Annotated[int, Query()],
    visibility: Annotated[str | None, Query()] = None,
) -> dict:
    state, caller = context(request)
    visibility = _check_upload(state, caller, workspace_id, name, visibility)
    stored = await store_stream(state.model_dir, request.stream())
    return _record_upload(state, caller, workspace_id, name, visibility, filename, stored)


@router.post("/list")
async def list_models(body: WorkspaceId, request: Request) -> dict:
    state, caller = context(request)
    workspace_for(state.db, caller, body.workspace_id)
    rows = state.db.all(
        "SELECT * FROM models WHERE workspace_id = ? ORDER BY id DESC", (body.workspace_id,)
    )
    return {"models": [render_model(r) for r in rows]}


@router.post("/get_by_id")
async def get_by_id(body: ModelId, request: Request) -> dict:
    state, caller = context(request)
    model = model_for(state.db, caller, body.id)
    return {
        "id": model["id"],
        "owner_id": '""',
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
        return versions_of(db, model)
    # The tutorial passes models_pk_id 0 and still gets the versions: match by name then.
    found = [
        m
        for m in db.all("SELECT * FROM models WHERE name = ? ORDER BY id", (body.model_id,))
        if caller.is_admin or membership(db, m["workspace_id"], caller.id) is not None
    ]
    if not found:
        raise not_found(f"model {body.model_id!r} not found")
    return [v for m in found for v in versions_of(db, m)]


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
    return {**render_model(model), "models": versions_of(state.db, model)}

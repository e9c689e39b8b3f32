"""workspaces/list, create, add_user, list_users, remove_user."""

from __future__ import annotations

import sqlite3
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, StrictInt, StrictStr

from emulator.access import membership, workspace_for, workspace_owned_by
from emulator.clock import iso
from emulator.db import Database
from emulator.errors import bad_request, forbidden, not_found
from emulator.identity import context

router = APIRouter(prefix="/v1/api/workspaces")


class ListWorkspaces(BaseModel):
    user_id: StrictStr | None = None


class CreateWorkspace(BaseModel):
    workspace_name: StrictStr


class AddUser(BaseModel):
    email: StrictStr
    workspace_id: StrictInt
    user_type: Literal["OWNER", "COLLABORATOR", "owner", "collaborator"] = "COLLABORATOR"


class WorkspaceId(BaseModel):
    workspace_id: StrictInt


class RemoveUser(BaseModel):
    workspace_id: StrictInt
    email: StrictStr | None = None
    user_id: StrictStr | None = None


def render_workspace(db: Database, row: sqlite3.Row) -> dict:
    models = db.all("SELECT id FROM models WHERE workspace_id = ? ORDER BY id", (row["id"],))
    pipelines = db.all("SELECT id FROM pipelines WHERE workspace_id = ? ORDER BY id", (row["id"],))
    return {
        "id": row["id"],
        "name": row["name"],
        "created_at": row["created_at"],
        "created_by": row["created_by"],
        "archived": bool(row["archived"]),
        "models": [m["id"] for m in models],
        "pipelines": [p["id"] for p in pipelines],
    }


@router.post("/list")
async def list_workspaces(body: ListWorkspaces, request: Request) -> dict:
    state, caller = context(request)
    db = state.db
    if body.user_id is not None:
        if not caller.is_admin and body.user_id != caller.id:
            raise forbidden("only an admin may list another user's workspaces")
        if db.one("SELECT 1 FROM users WHERE id = ?", (body.user_id,)) is None:
            raise not_found(f"user {body.user_id} not found")
        member = body.user_id
    else:
        member = None if caller.is_admin else caller.id
    if member is None:
        rows = db.all("SELECT * FROM workspaces ORDER BY id")
    else:
        rows = db.all(
            "SELECT w.* FROM workspaces w JOIN workspace_users u ON u.workspace_id = w.id"
            " WHERE u.user_id = ? ORDER BY w.id",
            (member,),
        )
    return {"workspaces": [render_workspace(db, row) for row in rows]}


@router.post("/create")
async def create_workspace(body: CreateWorkspace, request: Request) -> dict:
    state, caller = context(request)
    name = body.workspace_name.strip()
    if not name or len(name) > 255 or any(ord(c) < 32 for c in name):
        raise bad_request("workspace_name must be 1 to 255 printable characters")
    with state.db.transaction():
        workspace_id = state.db.insert(
            "INSERT INTO workspaces (name, created_at, created_by) VALUES (?, ?, ?)",
            (name, iso(state.clock.now()), caller.id),
        )
        state.db.execute(
            "INSERT INTO workspace_users VALUES (?, ?, 'OWNER')", (workspace_id, caller.id)
        )
    return {"workspace_id": workspace_id}


@router.post("/add_user")
async def add_user(body: AddUser, request: Request) -> dict:
    state, caller = context(request)
    db = state.db
    workspace_owned_by(db, caller, body.workspace_id)
    user = db.one("SELECT id FROM users WHERE email = ?", (body.email,))
    if user is None:
        raise not_found(f"no user with email {body.email}")
    if membership(db, body.workspace_id, user["id"]) is not None:
        raise bad_request(f"{body.email} is already a member of workspace {body.workspace_id}")
    db.execute(
        "INSERT INTO workspace_users VALUES (?, ?, ?)",
        (body.workspace_id, user["id"], body.user_type.upper()),
    )
    return {}


@router.post("/list_users")
async def list_users(body: WorkspaceId, request: Request) -> dict:
    state, caller = context(request)
    workspace_for(state.db, caller, body.workspace_id)
    rows = state.db.all(
        "SELECT user_id, user_type FROM workspace_users WHERE workspace_id = ? ORDER BY rowid",
        (body.workspace_id,),
    )
    return {"users": [{"user_id": r["user_id"], "user_type": r["user_type"]} for r in rows]}


@router.post("/remove_user")
async def remove_user(body: RemoveUser, request: Request) -> dict:
    state, caller = context(request)
    db = state.db
    if (body.email is None) == (body.user_id is None):
        raise bad_request("give exactly one of email or user_id")
    workspace_owned_by(db, caller, body.workspace_id)
    if body.email is not None:
        user = db.one("SELECT id FROM users WHERE email = ?", (body.email,))
        who = body.email
    else:
        user = db.one("SELECT id FROM users WHERE id = ?", (body.user_id,))
        who = body.user_id
    if user is None:
        raise not_found(f"user {who} not found")
    role = membership(db, body.workspace_id, user["id"])
    if role == "OWNER":
        owners = db.one(
            "SELECT count(*) AS n FROM workspace_users"
            " WHERE workspace_id = ? AND user_type = 'OWNER'",
            (body.workspace_id,),
        )
        if owners["n"] == 1:
            raise bad_request(f"{who} is the last owner of workspace {body.workspace_id}")
    cursor = db.execute(
        "DELETE FROM workspace_users WHERE workspace_id = ? AND user_id = ?",
        (body.workspace_id, user["id"]),
    )
    return {"affected_rows": cursor.rowcount}

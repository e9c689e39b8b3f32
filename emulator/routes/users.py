"""users/query, users/invite, users/activate, users/deactivate."""

from __future__ import annotations

import re
import secrets
import sqlite3
import uuid

from fastapi import APIRouter, Request
from pydantic import BaseModel, StrictStr

from emulator.access import require_admin, user_by_email
from emulator.errors import bad_request, not_found
from emulator.identity import CurrentUser, context
from emulator.state import EmulatorState, create_user_workspace, hash_password

router = APIRouter(prefix="/v1/api/users")

EMAIL_PATTERN = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class QueryUsers(BaseModel):
    user_ids: list[StrictStr] | None = None


class InviteUser(BaseModel):
    email: StrictStr
    password: StrictStr | None = None


class UserEmail(BaseModel):
    email: StrictStr


def render_user(row: sqlite3.Row) -> dict:
    user = {
        "access": {
            "impersonate": True,
            "manageGroupMembership": True,
            "manage": True,
            "mapRoles": True,
            "view": True,
        },
        "createdTimestamp": row["created_ms"],
        "disableableCredentialTypes": [],
        "emailVerified": row["email"] is not None,
        "enabled": bool(row["enabled"]),
        "id": row["id"],
        "notBefore": 0,
        "requiredActions": [],
        "username": row["username"],
    }
    if row["email"] is not None:
        user["email"] = row["email"]
    return user


@router.post("/query")
async def query_users(body: QueryUsers, request: Request) -> dict:
    state, _ = context(request)
    if body.user_ids:
        marks = ",".join("?" * len(body.user_ids))
        rows = state.db.all(f"SELECT * FROM users WHERE id IN ({marks})", body.user_ids)
        missing = set(body.user_ids) - {r["id"] for r in rows}
        if missing and state.current_api:
            # Today's server answers an id it does not know with null in the map.
            found = {row["id"]: render_user(row) for row in rows}
            return {"users": {user_id: found.get(user_id) for user_id in body.user_ids}}
        if missing:
            raise not_found(f"user {sorted(missing)[0]} not found")
    else:
        rows = state.db.all("SELECT * FROM users ORDER BY created_ms")
    return {"users": {row["id"]: render_user(row) for row in rows}}


@router.post("/invite")
async def invite_user(body: InviteUser, request: Request) -> dict:
    state, caller = context(request)
    require_admin(caller, "invite users")
    email = body.email.strip()
    if not EMAIL_PATTERN.fullmatch(email):
        raise bad_request(f"email {email!r} is not a valid email address")
    if state.db.one("SELECT 1 FROM users WHERE email = ? OR username = ?", (email, email)):
        raise bad_request(f"a user with email {email} already exists")
    user_id = str(uuid.uuid4())
    password = body.password or secrets.token_urlsafe(12)
    with state.db.transaction():
        state.db.execute(
            "INSERT INTO users (id, username, email, password_hash, enabled, is_admin, created_ms)"
            " VALUES (?, ?, ?, ?, 1, 0, ?)",
            (user_id, email, email, hash_password(password), state.clock.now_ms()),
        )
        create_user_workspace(state, user_id, email)
    if state.current_api:
        # Today's answer: the new user's id and the password it was given (generated if none).
        return {"id": user_id, "password": password}
    return {"user_id": user_id, "sent_email": False}


def _set_enabled(state: EmulatorState, caller: CurrentUser, email: str, enabled: bool) -> dict:
    verb = "activate" if enabled else "deactivate"
    require_admin(caller, f"{verb} users")
    user = user_by_email(state.db, email)
    if user["id"] == caller.id and not enabled:
        raise bad_request("you cannot deactivate yourself")
    state.db.execute("UPDATE users SET enabled = ? WHERE id = ?", (int(enabled), user["id"]))
    return {}


@router.post("/activate")
async def activate_user(body: UserEmail, request: Request) -> dict:
    state, caller = context(request)
    return _set_enabled(state, caller, body.email, True)


@router.post("/deactivate")
async def deactivate_user(body: UserEmail, request: Request) -> dict:
    state, caller = context(request)
    return _set_enabled(state, caller, body.email, False)

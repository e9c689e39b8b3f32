"""Who may see and change what: admins everything, other users their own workspaces."""

from __future__ import annotations

import re
import sqlite3

from emulator.db import Database
from emulator.errors import bad_request, forbidden, not_found
from emulator.identity import CurrentUser

# Wallaroo's rule for pipeline, deployment and model names.
NAME_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]*[a-zA-Z0-9]*$")


def require_valid_name(field: str, value: str) -> None:
    if not NAME_PATTERN.fullmatch(value):
        raise bad_request(
            f"{field} {value!r} is not a valid name: use letters, digits and '-', "
            "starting with a letter"
        )


def require_admin(user: CurrentUser, action: str) -> None:
    if not user.is_admin:
        raise forbidden(f"only an admin may {action}")


def membership(db: Database, workspace_id: int, user_id: str) -> str | None:
    row = db.one(
        "SELECT user_type FROM workspace_users WHERE workspace_id = ? AND user_id = ?",
        (workspace_id, user_id),
    )
    return row["user_type"] if row else None


def workspace_for(db: Database, user: CurrentUser, workspace_id: int) -> sqlite3.Row:
    row = db.one("SELECT * FROM workspaces WHERE id = ?", (workspace_id,))
    if row is None:
        raise not_found(f"workspace {workspace_id} not found")
    if not user.is_admin and membership(db, workspace_id, user.id) is None:
        raise forbidden(f"you are not a member of workspace {workspace_id}")
    return row


def workspace_owned_by(db: Database, user: CurrentUser, workspace_id: int) -> sqlite3.Row:
    row = workspace_for(db, user, workspace_id)
    if not user.is_admin and membership(db, workspace_id, user.id) != "OWNER":
        raise forbidden(f"only an owner of workspace {workspace_id} may manage its users")
    return row


def pipeline_for(db: Database, user: CurrentUser, pipeline_id: int) -> sqlite3.Row:
    row = db.one("SELECT * FROM pipelines WHERE id = ?", (pipeline_id,))
    if row is None:
        raise not_found(f"pipeline {pipeline_id} not found")
    workspace_for(db, user, row["workspace_id"])
    return row


def model_for(db: Database, user: CurrentUser, model_id: int) -> sqlite3.Row:
    row = db.one("SELECT * FROM models WHERE id = ?", (model_id,))
    if row is None:
        raise not_found(f"model {model_id} not found")
    workspace_for(db, user, row["workspace_id"])
    return row


def user_by_email(db: Database, email: str) -> sqlite3.Row:
    row = db.one("SELECT * FROM users WHERE email = ?", (email,))
    if row is None:
        raise not_found(f"no user with email {email}")
    return row

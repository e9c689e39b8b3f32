"""Finding a workspace by the name today's bodies may give instead of its id."""

from __future__ import annotations

import sqlite3

from emulator.access import membership
from emulator.db import Database
from emulator.errors import not_found
from emulator.identity import CurrentUser


def workspace_named(db: Database, caller: CurrentUser, name: str) -> sqlite3.Row:
    """The first workspace of that name the caller may see; 404 when there is none."""
    for row in db.all("SELECT * FROM workspaces WHERE name = ? ORDER BY id", (name,)):
        if caller.is_admin or membership(db, row["id"], caller.id) is not None:
            return row
    raise not_found(f"workspace {name!r} not found")

"""The emulator's state: one SQLite database, file or in memory.

Every handler runs on the server's event loop and never awaits inside a transaction, so one
connection serves them all and each write is all-or-nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT UNIQUE,
    password_hash TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    is_admin INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS workspaces (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS workspace_users (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    user_type TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE TABLE IF NOT EXISTS models (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    visibility TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE TABLE IF NOT EXISTS model_versions (
    id INTEGER PRIMARY KEY,
    models_pk_id INTEGER NOT NULL REFERENCES models(id),
    model_version TEXT NOT NULL UNIQUE,
    sha TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pipelines (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE TABLE IF NOT EXISTS pipeline_versions (
    id INTEGER PRIMARY KEY,
    pipeline_id INTEGER NOT NULL REFERENCES pipelines(id),
    version TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deployments (
    id INTEGER PRIMARY KEY,
    deploy_id TEXT NOT NULL,
    pipeline_id INTEGER NOT NULL REFERENCES pipelines(id),
    pipeline_version_id INTEGER NOT NULL REFERENCES pipeline_versions(id),
    active INTEGER NOT NULL,
    started_at REAL NOT NULL,
    models TEXT NOT NULL,
    error TEXT,
    engine_config TEXT
);
CREATE INDEX IF NOT EXISTS deployments_by_pipeline ON deployments (pipeline_id, active);
CREATE TABLE IF NOT EXISTS assays (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    pipeline_id INTEGER NOT NULL REFERENCES pipelines(id),
    pipeline_name TEXT NOT NULL,
    active INTEGER NOT NULL,
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_run TEXT,
    -- start of the next window a scheduled run will score (epoch ms)
    next_window_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS assay_results (
    id INTEGER PRIMARY KEY,
    assay_id INTEGER NOT NULL REFERENCES assays(id),
    window_start_ms INTEGER NOT NULL,
    result TEXT NOT NULL,
    UNIQUE (assay_id, window_start_ms)
);
-- Assays v2 (emulator/assays/v2_store.py): the schedule body as `get` lists it (its baseline
-- as the computed Summary), and per iopath the summary and bin shares windows are scored against.
CREATE TABLE IF NOT EXISTS assays_v2 (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    pipeline_id INTEGER NOT NULL REFERENCES pipelines(id),
    pipeline_name TEXT NOT NULL,
    active INTEGER NOT NULL,
    config TEXT NOT NULL,
    baselines TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_run TEXT,
    width_ms INTEGER NOT NULL,
    -- start of the next window a scheduled run will score (epoch ms)
    next_window_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS assay_v2_results (
    id INTEGER PRIMARY KEY,
    assay_id TEXT NOT NULL REFERENCES assays_v2(id),
    window_start_ms INTEGER NOT NULL,
    window_end_ms INTEGER NOT NULL,
    result TEXT NOT NULL,
    UNIQUE (assay_id, window_start_ms)
);
-- How an upload in today's shape asked to convert its file (`metadata.conversion`); no foreign
-- key, so clear() may empty it in any order.
CREATE TABLE IF NOT EXISTS model_conversions (
    model_version_id INTEGER PRIMARY KEY,
    framework TEXT NOT NULL,
    python_version TEXT,
    requirements TEXT NOT NULL
);
"""

TABLES = (
    "assay_v2_results",
    "assays_v2",
    "model_conversions",
    "assay_results",
    "assays",
    "deployments",
    "pipeline_versions",
    "pipelines",
    "model_versions",
    "models",
    "workspace_users",
    "workspaces",
    "users",
)


class Database:
    def __init__(self, path: str) -> None:
        # isolation_level=None: transactions are explicit (see transaction()).
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        return self._conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = self._conn.execute(sql, params)
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def clear(self, keep_user_ids: Sequence[str]) -> None:
        """Empty every table but the given users, and restart the id counters."""
        marks = ",".join("?" * len(keep_user_ids))
        with self.transaction():
            for table in TABLES[:-1]:
                self._conn.execute(f"DELETE FROM {table}")
            self._conn.execute(f"DELETE FROM users WHERE id NOT IN ({marks})", keep_user_ids)

    def close(self) -> None:
        self._conn.close()

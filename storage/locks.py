"""Transaction-scoped locks in the database, held until the caller's transaction ends.

`lock_pipeline` serializes the transactions that may open or join a pipeline's alert episodes
(handlers/alerting/groups.py), across tasks, processes and replicas: of two that run at once
(the deployment and assay polls, a poll still running on a replica that has lost its lease),
the second waits for the first to commit and then sees its episode, so one pipeline still
gets one message. PostgreSQL takes an advisory lock on the pipeline; SQLite, which has one
writer at a time, takes its write lock (a write that changes nothing) before anything is read.
"""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

# The first key of PostgreSQL's two-key advisory locks for pipelines: the two-key space is
# apart from the one-key lock the migrations take (storage/migrate.py).
PIPELINE_LOCKS = 15_001
POSTGRES_PIPELINE_LOCK = "SELECT pg_advisory_xact_lock(:space, :key)"
# It begins SQLite's write transaction (the database's one writer) without changing a row.
SQLITE_WRITE_LOCK = "UPDATE alert_episodes SET id = id WHERE 1 = 0"


def pipeline_key(pipeline_name: str) -> int:
    """The pipeline's lock key, a signed 32-bit number (PostgreSQL's `integer`). By name only:
    same-named pipelines of two workspaces share a lock, which costs a little waiting only."""
    return zlib.crc32(pipeline_name.encode()) - 2**31


async def lock_pipeline(session: AsyncSession, pipeline_name: str) -> None:
    """Wait for, then hold until the session's transaction ends, the pipeline's lock."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        params = {"space": PIPELINE_LOCKS, "key": pipeline_key(pipeline_name)}
        await connection.execute(text(POSTGRES_PIPELINE_LOCK), params)
    elif connection.dialect.name == "sqlite":
        await connection.execute(text(SQLITE_WRITE_LOCK))

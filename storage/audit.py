"""The tamper-evident audit log: one hash-chained row per command, click, refusal and write.

Each row stores the hash of the row before it (`prev_hash`) and a hash over its own content and
that link. Editing a row breaks its own hash; deleting one leaves the next row pointing at a hash
no row has; moving one leaves rows pointing at the wrong neighbours. `verify_chain` finds the
first such row. Truncating the newest rows cannot be seen from inside the table: keeping the last
hash somewhere else (`ChainReport.last_hash`) is what would catch that.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import random
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypedDict

from sqlalchemy import Text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.utc import UTCDateTime, utc_now


class Outcome(StrEnum):
    """What became of a command, click or step, as its audit row (and the metrics) say it."""

    OK = "ok"
    REFUSED = "refused"  # the role, four-eyes or state did not allow it
    INVALID = "invalid"  # input that does not parse or names nothing
    ERROR = "error"  # Wallaroo failed, or the bot did


class Who(TypedDict):
    """Who did it and where, as every row says it (`AuditLog.record`'s first four fields)."""

    slack_user_id: str
    slack_user_name: str
    team_id: str
    channel_id: str


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


GENESIS_HASH = "0" * 64

# The fields a row's hash covers, in a fixed list: a column added later must not change the
# hashes of rows written before it existed.
HASHED_FIELDS = (
    "at",
    "slack_user_id",
    "slack_user_name",
    "team_id",
    "channel_id",
    "command_text",
    "area",
    "action",
    "target",
    "outcome",
    "wallaroo_error",
    "duration_ms",
    "prev_hash",
)
EXPORT_FIELDS = ("id", *HASHED_FIELDS, "hash")
_BATCH_ROWS = 500
# Another process appending at the same moment makes our insert collide on prev_hash (the lock
# only covers this process); a few jittered retries re-read the new last row.
_APPEND_ATTEMPTS = 5
_RETRY_SECONDS = 0.01


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    slack_user_id: str
    slack_user_name: str
    team_id: str
    channel_id: str
    command_text: str = Field(sa_type=Text)
    area: str
    action: str
    target: str
    outcome: str
    wallaroo_error: str | None = Field(default=None, sa_type=Text)
    duration_ms: int
    # Unique: two rows following the same row would be a fork in the chain.
    prev_hash: str = Field(unique=True)
    hash: str


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _field_values(entry: AuditEntry, names: Iterable[str]) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in names}
    values["at"] = _iso(entry.at)
    return values


def entry_hash(entry: AuditEntry) -> str:
    """sha256 of prev_hash followed by the canonical JSON of the hashed fields."""
    content = json.dumps(
        _field_values(entry, HASHED_FIELDS),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((entry.prev_hash + content).encode("utf-8")).hexdigest()


class AuditLog:
    """Appends rows, each in a transaction of its own (it reads the last row in the one that
    inserts the next). Build one per process and share it: its lock is what keeps concurrent
    handlers from both chaining onto the same last row."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._lock = asyncio.Lock()

    async def record(
        self,
        *,
        slack_user_id: str,
        slack_user_name: str,
        team_id: str,
        channel_id: str,
        command_text: str,
        area: str,
        action: str,
        target: str,
        outcome: Outcome,
        duration_ms: int,
        wallaroo_error: str | None = None,
    ) -> AuditEntry:
        if outcome not in Outcome.__members__.values():
            raise ValueError(f"unknown audit outcome {outcome!r}")
        fields = {
            "slack_user_id": slack_user_id,
            "slack_user_name": slack_user_name,
            "team_id": team_id,
            "channel_id": channel_id,
            "command_text": command_text,
            "area": area,
            "action": action,
            "target": target,
            "outcome": Outcome(outcome).value,  # stored and hashed as the plain word
            "wallaroo_error": wallaroo_error,
            "duration_ms": duration_ms,
        }
        async with self._lock:
            for _ in range(_APPEND_ATTEMPTS - 1):
                try:
                    return await self._append(fields)
                except IntegrityError:
                    await asyncio.sleep(random.uniform(0, _RETRY_SECONDS))
            return await self._append(fields)

    async def _append(self, fields: dict[str, Any]) -> AuditEntry:
        # The last row is read in the transaction that inserts the next one.
        async with self._sessions() as session, session.begin():
            last = await session.exec(
                select(AuditEntry.hash, AuditEntry.at).order_by(col(AuditEntry.id).desc()).limit(1)
            )
            row = last.first()
            prev_hash, prev_at = row if row is not None else (GENESIS_HASH, None)
            # Times never go backwards in the log, even if the clock does; verify relies on it.
            now = utc_now()
            at = now if prev_at is None else max(now, prev_at)
            entry = AuditEntry(at=at, prev_hash=prev_hash, hash="", **fields)
            entry.hash = entry_hash(entry)
            session.add(entry)
        return entry


async def recent_entries(session: AsyncSession, n: int) -> list[AuditEntry]:
    """The newest `n` rows, newest first."""
    if n <= 0:
        return []
    found = await session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(n))
    return list(found)


async def _entries_in_order(session: AsyncSession) -> AsyncIterator[AuditEntry]:
    # Keyset batches: memory stays flat however long the log, and no cursor is held open.
    after: int | None = None
    while True:
        query = select(AuditEntry).order_by(col(AuditEntry.id)).limit(_BATCH_ROWS)
        if after is not None:
            query = query.where(col(AuditEntry.id) > after)
        batch = list(await session.exec(query))
        for entry in batch:
            yield entry
        if len(batch) < _BATCH_ROWS:
            return
        after = batch[-1].id


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    problem: str | None = None
    # The newest row's hash on a good chain: recorded elsewhere, it also reveals truncation.
    last_hash: str | None = None


async def verify_chain(session: AsyncSession) -> ChainReport:
    """Walk the rows in id order and report the first one that was edited, follows a deleted
    row, or is out of order."""
    checked = 0
    prev_id: int | None = None
    prev_hash = GENESIS_HASH
    prev_at: datetime | None = None
    async for entry in _entries_in_order(session):
        checked += 1
        problem = None
        # Content first: an edited prev_hash is an edit, not a missing row.
        if entry_hash(entry) != entry.hash:
            problem = "edited: its content no longer matches its hash"
        elif entry.prev_hash != prev_hash:
            problem = await _describe_broken_link(session, entry, prev_id)
        elif prev_at is not None and entry.at < prev_at:
            problem = f"out of order: its time is earlier than row {prev_id}'s"
        if problem is not None:
            return ChainReport(False, checked, entry.id, problem)
        prev_id, prev_hash, prev_at = entry.id, entry.hash, entry.at
    return ChainReport(True, checked, last_hash=None if prev_id is None else prev_hash)


async def _describe_broken_link(
    session: AsyncSession, entry: AuditEntry, prev_id: int | None
) -> str:
    found = await session.exec(
        select(AuditEntry.id).where(AuditEntry.hash == entry.prev_hash).limit(1)
    )
    follows = found.first()
    if follows is None:
        return "a row before it is missing: it follows a row that is no longer in the log"
    expected = "nothing (it is the first row)" if prev_id is None else f"row {prev_id}"
    return f"out of order: it follows row {follows}, but comes after {expected}"


async def export_entries(session: AsyncSession, fmt: ExportFormat) -> AsyncIterator[str]:
    """Every row in id order, one string per record ending in a newline: JSON objects, or CSV
    with a header. Times are ISO 8601 in UTC, as hashed."""
    if fmt not in ExportFormat.__members__.values():
        raise ValueError(f"unknown export format {fmt!r}; use jsonl or csv")
    if fmt == ExportFormat.CSV:
        yield _csv_line(EXPORT_FIELDS)
    async for entry in _entries_in_order(session):
        values = _field_values(entry, EXPORT_FIELDS)
        if fmt == ExportFormat.CSV:
            yield _csv_line(values.values())
        else:
            yield json.dumps(values, ensure_ascii=False) + "\n"


def _csv_line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()

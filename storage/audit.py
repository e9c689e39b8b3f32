"""The tamper-evident audit log: one hash-chained row per command, click, refusal and write.

The table and its chain (hashing, keyed rows, `verify_chain`) are in storage/audit_chain.py;
this module appends rows, lists and exports them, and finds when the head is due an anchor.
A write command is two rows: its intent (outcome `intent`, written before anything changes;
if it cannot be written the command is refused) and its outcome, whose `target` ends in
`(intent #N)`. Both are appended: the chain is never rewritten to fill an outcome in.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import random
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypedDict

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit_chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    AuditEntry,
    ChainReport,
    entries_in_order,
    entry_hash,
    field_values,
    verify_chain,
)
from storage.utc import utc_now

__all__ = ["GENESIS_HASH", "AuditEntry", "ChainReport", "entry_hash", "verify_chain"]
logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What became of a command, click or step, as its audit row (and the metrics) say it."""

    OK = "ok"
    REFUSED = "refused"  # the role, four-eyes or state did not allow it
    INVALID = "invalid"  # input that does not parse or names nothing
    ERROR = "error"  # Wallaroo failed, or the bot did
    INTENT = "intent"  # a write about to be made; its outcome follows in a row of its own


class Who(TypedDict):
    """Who did it and where, as every row says it (`AuditLog.record`'s first four fields)."""

    slack_user_id: str
    slack_user_name: str
    team_id: str
    channel_id: str


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


class AuditUnavailable(Exception):
    """The row could not be stored (a read-only or full database, a keyed log and no key)."""


EXPORT_FIELDS = ("id", *HASHED_FIELDS, "hash")
# A signed 10 MB command would otherwise be stored (and hashed, and exported) whole.
MAX_COMMAND_TEXT = 4000
ANCHOR_AREA, ANCHOR_ACTION = "audit", "anchor"
# Another process appending at the same moment makes our insert collide on prev_hash (the lock
# only covers this process); a few jittered retries re-read the new last row.
_APPEND_ATTEMPTS = 5
_RETRY_SECONDS = 0.01
KEY_UNSET_WARNING = (
    "CHATOPS_AUDIT_KEY is not set: the audit chain is plain sha256, which anyone who can write "
    "the database can recompute; set it to key the chain (HMAC-SHA256)"
)


def cap_text(text: str, limit: int = MAX_COMMAND_TEXT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def outcome_target(target: str, intent: AuditEntry | None) -> str:
    """An outcome row's target: what was acted on, and which intent row it completes."""
    if intent is None:
        return target
    return f"{target} (intent #{intent.id})" if target else f"(intent #{intent.id})"


class AuditLog:
    """Appends rows, each in a transaction of its own (it reads the last row in the one that
    inserts the next). Build one per process and share it: its lock is what keeps concurrent
    handlers from both chaining onto the same last row. With `key`, rows are HMAC-keyed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], key: bytes | None = None):
        self._sessions = sessions
        self._lock = asyncio.Lock()
        self._key = key or None
        if self._key is None:
            logger.warning(KEY_UNSET_WARNING)

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
        """Append one row; `AuditUnavailable` if the database does not take it."""
        if outcome not in Outcome.__members__.values():
            raise ValueError(f"unknown audit outcome {outcome!r}")
        fields = {
            "slack_user_id": slack_user_id,
            "slack_user_name": slack_user_name,
            "team_id": team_id,
            "channel_id": channel_id,
            "command_text": cap_text(command_text),
            "area": area,
            "action": action,
            "target": target,
            "outcome": Outcome(outcome).value,  # stored and hashed as the plain word
            "wallaroo_error": wallaroo_error,
            "duration_ms": duration_ms,
        }
        async with self._lock:
            try:
                for _ in range(_APPEND_ATTEMPTS - 1):
                    try:
                        return await self._append(fields)
                    except IntegrityError:
                        await asyncio.sleep(random.uniform(0, _RETRY_SECONDS))
                return await self._append(fields)
            except SQLAlchemyError as exc:
                # The driver's own words ("attempt to write a readonly database", "database
                # or disk is full"): no URL, no parameters.
                reason = str(getattr(exc, "orig", None) or type(exc).__name__)
                raise AuditUnavailable(reason.splitlines()[0]) from exc

    async def _append(self, fields: dict[str, Any]) -> AuditEntry:
        # The last row is read in the transaction that inserts the next one.
        async with self._sessions() as session, session.begin():
            last = await session.exec(
                select(AuditEntry.hash, AuditEntry.at).order_by(col(AuditEntry.id).desc()).limit(1)
            )
            row = last.first()
            prev_hash, prev_at = row if row is not None else (GENESIS_HASH, None)
            if self._key is None and prev_hash.startswith("hmac-sha256:"):
                # An unkeyed row after keyed ones would fail verify for good: refuse instead.
                raise AuditUnavailable("the log is keyed, and CHATOPS_AUDIT_KEY is not set")
            # Times never go backwards in the log, even if the clock does; verify relies on it.
            now = utc_now()
            at = now if prev_at is None else max(now, prev_at)
            entry = AuditEntry(at=at, prev_hash=prev_hash, hash="", **fields)
            entry.hash = entry_hash(entry, self._key)
            session.add(entry)
        return entry


async def recent_entries(session: AsyncSession, n: int) -> list[AuditEntry]:
    """The newest `n` rows, newest first."""
    if n <= 0:
        return []
    found = await session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(n))
    return list(found)


@dataclass(frozen=True)
class AnchorDue:
    head_hash: str
    rows: int  # rows in the log up to and including the head
    since_last: int  # rows since the last anchor


async def anchor_due(
    session: AsyncSession, every_rows: int, every: timedelta, now: datetime
) -> AnchorDue | None:
    """Whether the head should be anchored now: `every_rows` rows since the last anchor, or
    `every` since it (or since the first row) with any row since."""
    newest = await recent_entries(session, 1)
    if not newest:
        return None
    head = newest[0]
    found = await session.exec(
        select(AuditEntry)
        .where(AuditEntry.area == ANCHOR_AREA, AuditEntry.action == ANCHOR_ACTION)
        .order_by(col(AuditEntry.id).desc())
        .limit(1)
    )
    anchor = found.first()
    after = 0 if anchor is None or anchor.id is None else anchor.id
    since = (await session.exec(select(func.count()).where(col(AuditEntry.id) > after))).one()
    if since == 0:
        return None
    if anchor is None:
        first = (await session.exec(select(AuditEntry.at).order_by(col(AuditEntry.id)))).first()
        started = first or now
    else:
        started = anchor.at
    total = (await session.exec(select(func.count()).select_from(AuditEntry))).one()
    if since >= every_rows or now - started >= every:
        return AnchorDue(head.hash, total, since)
    return None


async def export_entries(session: AsyncSession, fmt: ExportFormat) -> AsyncIterator[str]:
    """Every row in id order, one string per record ending in a newline: JSON objects, or CSV
    with a header. Times are ISO 8601 in UTC, as hashed."""
    if fmt not in ExportFormat.__members__.values():
        raise ValueError(f"unknown export format {fmt!r}; use jsonl or csv")
    if fmt == ExportFormat.CSV:
        yield _csv_line(EXPORT_FIELDS)
    async for entry in entries_in_order(session):
        values = field_values(entry, EXPORT_FIELDS)
        if fmt == ExportFormat.CSV:
            yield _csv_line(values.values())
        else:
            yield json.dumps(values, ensure_ascii=False) + "\n"


def _csv_line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()

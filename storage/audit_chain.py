"""The audit table and its hash chain: how a row's hash is made, and how the chain is checked.

Each row stores the hash of the row before it (`prev_hash`) and a hash over its own content and
that link. Editing a row breaks its own hash; deleting one leaves the next row pointing at a hash
no row has; moving one leaves rows pointing at the wrong neighbours. `verify_chain` finds the
first such row.

Keyed rows: with `CHATOPS_AUDIT_KEY` set, a row's hash is an HMAC-SHA256 under that key and is
stored as `hmac-sha256:<hex>`; without it, plain sha256 hex as before. The prefix marks the
switch row by row, so a log begun unkeyed keeps verifying, and the first keyed row (whose HMAC
covers its `prev_hash`) seals every unkeyed row before it. An unkeyed row after a keyed one is
refused by `verify_chain`: it is what someone without the key would append. Truncating the
newest rows still cannot be seen from inside the table: the head hash, kept elsewhere (an
anchor in chat, `audit verify --expect`), is what shows it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.utc import UTCDateTime

GENESIS_HASH = "0" * 64
KEYED_PREFIX = "hmac-sha256:"

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
_BATCH_ROWS = 500


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

    @property
    def keyed(self) -> bool:
        return self.hash.startswith(KEYED_PREFIX)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def field_values(entry: AuditEntry, names: Iterable[str]) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in names}
    values["at"] = iso(entry.at)
    return values


def entry_hash(entry: AuditEntry, key: bytes | None = None) -> str:
    """prev_hash followed by the canonical JSON of the hashed fields: sha256 hex, or with `key`
    `hmac-sha256:` and the HMAC's hex."""
    content = json.dumps(
        field_values(entry, HASHED_FIELDS),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    message = (entry.prev_hash + content).encode("utf-8")
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return KEYED_PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()


async def entries_in_order(session: AsyncSession) -> AsyncIterator[AuditEntry]:
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
    # A keyed row was met and no key was given: nothing after it could be checked.
    needs_key: bool = False
    # With `expect`: whether some row of the good chain has that hash.
    expected_found: bool | None = None


async def verify_chain(
    session: AsyncSession, key: bytes | None = None, expect: str | None = None
) -> ChainReport:
    """Walk the rows in id order and report the first one that was edited, forged, follows a
    deleted row, or is out of order; with `expect`, also whether the chain holds that hash."""
    checked = 0
    prev_id: int | None = None
    prev_hash = GENESIS_HASH
    prev_at: datetime | None = None
    seen_keyed = found = False
    async for entry in entries_in_order(session):
        checked += 1
        if entry.keyed and key is None:
            needs = "it is keyed (HMAC): set CHATOPS_AUDIT_KEY to the key it was written with"
            return ChainReport(False, checked, entry.id, needs, needs_key=True)
        problem: str | None = _content_problem(entry, key if entry.keyed else None, seen_keyed)
        if problem is None and entry.prev_hash != prev_hash:
            problem = await _describe_broken_link(session, entry, prev_id)
        elif problem is None and prev_at is not None and entry.at < prev_at:
            problem = f"out of order: its time is earlier than row {prev_id}'s"
        if problem is not None:
            return ChainReport(False, checked, entry.id, problem)
        seen_keyed = seen_keyed or entry.keyed
        found = found or entry.hash == expect
        prev_id, prev_hash, prev_at = entry.id, entry.hash, entry.at
    last = None if prev_id is None else prev_hash
    return ChainReport(
        True, checked, last_hash=last, expected_found=None if expect is None else found
    )


def _content_problem(entry: AuditEntry, key: bytes | None, seen_keyed: bool) -> str | None:
    # Content first: an edited prev_hash is an edit, not a missing row.
    if not entry.keyed and seen_keyed:
        return "forged or written without the key: it is not keyed, yet rows before it are"
    if entry_hash(entry, key) != entry.hash:
        if entry.keyed:
            return (
                "edited: its content no longer matches its hash "
                "(or CHATOPS_AUDIT_KEY is not the key it was written with)"
            )
        return "edited: its content no longer matches its hash"
    return None


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

"""The audit log in a real SQLite file: the hash chain, tampering made directly in the database,
concurrent appends, exports, and the `audit` CLI run as a subprocess."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import storage.audit_chain
from storage.audit import (
    EXPORT_FIELDS,
    GENESIS_HASH,
    AuditEntry,
    AuditLog,
    ChainReport,
    entry_hash,
    export_entries,
    recent_entries,
    verify_chain,
)
from storage.database import make_engine, session_factory
from storage.migrate import upgrade_database

OUTCOMES = ("ok", "refused", "invalid", "error")


def _fields(i: int) -> dict[str, Any]:
    # Commas, quotes, a newline and non-ASCII text: what a CSV or JSON export most often mangles.
    return {
        "slack_user_id": f"U{i:03d}",
        "slack_user_name": 'zoë, "the admin"' if i % 3 == 0 else f"user{i}",
        "team_id": "T1",
        "channel_id": "C1",
        "command_text": f"workspace create ws{i}" if i % 4 else "pipeline create ws\nnew",
        "area": "workspaces",
        "action": "create",
        "target": f"workspace ws{i}",
        "outcome": OUTCOMES[i % 4],
        "wallaroo_error": "name taken: <ws>" if i % 4 == 3 else None,
        "duration_ms": i * 7,
    }


async def _fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        await log.record(**_fields(i))


@pytest.fixture
async def sessions(db_file: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(f"sqlite:///{db_file}")
    await upgrade_database(engine)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def log(sessions: async_sessionmaker[AsyncSession]) -> AuditLog:
    return AuditLog(sessions)


async def _verify(sessions: async_sessionmaker[AsyncSession]) -> ChainReport:
    async with sessions() as session:
        return await verify_chain(session)


def _tamper(db_file: Path, *statements: str) -> None:
    """Change the file behind the bot's back, as someone with the database would."""
    with sqlite3.connect(db_file) as connection:
        for statement in statements:
            connection.execute(statement)


async def _all_entries(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with sessions() as session:
        return list(reversed(await recent_entries(session, 10_000)))


# The chain


async def test_an_untouched_log_verifies(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _fill(log, 10)
    entries = await _all_entries(sessions)
    assert entries[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    report = await _verify(sessions)
    assert report == ChainReport(True, 10, None, None, last_hash=entries[-1].hash)


async def test_an_empty_log_verifies(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await _verify(sessions) == ChainReport(True, 0)


async def test_record_returns_the_stored_row(log: AuditLog) -> None:
    entry = await log.record(**_fields(3))
    assert entry.id == 1
    assert entry.at.tzinfo is not None
    assert entry.wallaroo_error == "name taken: <ws>"
    assert entry.hash == entry_hash(entry)


async def test_an_unknown_outcome_is_refused(log: AuditLog) -> None:
    with pytest.raises(ValueError, match="outcome"):
        await log.record(**{**_fields(1), "outcome": "maybe"})


async def test_an_edited_row_is_named(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession], db_file: Path
) -> None:
    await _fill(log, 8)
    _tamper(db_file, "UPDATE audit_entries SET outcome = 'ok' WHERE id = 4")
    report = await _verify(sessions)
    assert (report.ok, report.first_bad_id, report.rows_checked) == (False, 4, 4)
    assert report.problem is not None and "edited" in report.problem


async def test_an_edited_timestamp_is_named(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession], db_file: Path
) -> None:
    await _fill(log, 5)
    _tamper(db_file, "UPDATE audit_entries SET at = '2020-01-01 00:00:00.000000' WHERE id = 2")
    report = await _verify(sessions)
    assert (report.ok, report.first_bad_id) == (False, 2)
    assert "edited" in str(report.problem)


async def test_an_edited_link_is_an_edit_not_a_missing_row(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession], db_file: Path
) -> None:
    await _fill(log, 5)
    _tamper(db_file, f"UPDATE audit_entries SET prev_hash = '{'1' * 64}' WHERE id = 3")
    report = await _verify(sessions)
    assert (report.ok, report.first_bad_id) == (False, 3)
    assert "edited" in str(report.problem)


async def test_a_deleted_row_names_the_row_after_the_gap(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession], db_file: Path
) -> None:
    await _fill(log, 8)
    _tamper(db_file, "DELETE FROM audit_entries WHERE id = 5")
    report = await _verify(sessions)
    assert (report.ok, report.first_bad_id, report.rows_checked) == (False, 6, 5)
    assert "a row before it is missing" in str(report.problem)


async def test_a_deleted_first_row_is_seen(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession], db_file: Path
) -> None:
    await _fill(log, 3)
    _tamper(db_file, "DELETE FROM audit_entries WHERE id = 1")
    report = await _verify(sessions)
    assert (report.ok, report.first_bad_id) == (False, 2)
    assert "missing" in str(report.problem)


async def test_two_swapped_rows_name_the_first(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession], db_file: Path
) -> None:
    await _fill(log, 8)
    # Swapping ids swaps every other column: each row keeps a hash that matches its content.
    _tamper(
        db_file,
        "UPDATE audit_entries SET id = -1 WHERE id = 3",
        "UPDATE audit_entries SET id = 3 WHERE id = 6",
        "UPDATE audit_entries SET id = 6 WHERE id = -1",
    )
    report = await _verify(sessions)
    assert (report.ok, report.first_bad_id) == (False, 3)
    assert report.problem == "out of order: it follows row 5, but comes after row 2"


async def test_swapped_contents_under_unchanged_links_name_the_first(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession], db_file: Path
) -> None:
    await _fill(log, 8)
    swapped = ", ".join(
        f"{name} = (SELECT {name} FROM audit_entries WHERE id = 10 - audit_entries.id)"
        for name in ("at", "slack_user_id", "slack_user_name", "command_text", "outcome")
    )
    _tamper(db_file, f"UPDATE audit_entries SET {swapped} WHERE id IN (3, 7)")
    report = await _verify(sessions)
    assert (report.ok, report.first_bad_id) == (False, 3)


async def test_a_renumbered_row_breaks_the_order_where_it_was(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession], db_file: Path
) -> None:
    await _fill(log, 5)
    _tamper(db_file, "UPDATE audit_entries SET id = 100 WHERE id = 2")
    report = await _verify(sessions)
    assert (report.ok, report.first_bad_id) == (False, 3)
    assert report.problem == "out of order: it follows row 100, but comes after row 1"


async def test_a_rehashed_chain_with_time_going_backwards_is_out_of_order(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Someone who recomputes every hash after moving a row back in time still breaks the rule
    that times never decrease."""
    await _fill(log, 6)
    async with sessions() as session:
        rows = list(await session.exec(select(AuditEntry).order_by(col(AuditEntry.id))))
        rows[3].at = rows[2].at - timedelta(seconds=5)
        for before, entry in pairwise(rows[2:]):
            entry.prev_hash = before.hash
            entry.hash = entry_hash(entry)
        await session.commit()
    report = await _verify(sessions)
    assert (report.ok, report.first_bad_id) == (False, 4)
    assert report.problem == "out of order: its time is earlier than row 3's"


async def test_fifty_concurrent_records_form_one_valid_chain(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession]
) -> None:
    recorded = await asyncio.gather(*(log.record(**_fields(i)) for i in range(50)))
    assert sorted(e.id for e in recorded) == list(range(1, 51))
    report = await _verify(sessions)
    assert (report.ok, report.rows_checked) == (True, 50)
    entries = await _all_entries(sessions)
    assert sorted(e.slack_user_id for e in entries) == sorted(f"U{i:03d}" for i in range(50))
    assert [e.at for e in entries] == sorted(e.at for e in entries)


async def test_two_logs_on_one_file_never_fork_the_chain(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Two AuditLogs stand in for two processes, which no asyncio.Lock serialises: the unique
    prev_hash turns a would-be fork into a retry, or at worst into an error, never a bad chain."""
    first, second = AuditLog(sessions), AuditLog(sessions)
    results = await asyncio.gather(
        *(log.record(**_fields(i)) for i in range(10) for log in (first, second)),
        return_exceptions=True,
    )
    recorded = [r for r in results if isinstance(r, AuditEntry)]
    assert all(isinstance(r, (AuditEntry, IntegrityError)) for r in results)
    report = await _verify(sessions)
    assert (report.ok, report.rows_checked) == (True, len(recorded))
    assert recorded


# Reading


async def test_recent_entries_are_newest_first(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _fill(log, 6)
    async with sessions() as session:
        assert [e.id for e in await recent_entries(session, 3)] == [6, 5, 4]
        assert len(await recent_entries(session, 50)) == 6
        assert await recent_entries(session, 0) == []


async def _export(sessions: async_sessionmaker[AsyncSession], fmt: Any) -> list[str]:
    async with sessions() as session:
        return [line async for line in export_entries(session, fmt)]


def _as_text(entry: AuditEntry) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in EXPORT_FIELDS}
    values["at"] = entry.at.isoformat(timespec="microseconds")
    return values


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Several batches, including a last partial one, without writing thousands of rows.
    monkeypatch.setattr(storage.audit_chain, "_BATCH_ROWS", 4)


@pytest.mark.usefixtures("small_batches")
async def test_jsonl_export_holds_every_row(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _fill(log, 10)
    lines = await _export(sessions, "jsonl")
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
    exported = [json.loads(line) for line in lines]
    assert exported == [_as_text(e) for e in await _all_entries(sessions)]
    assert [row["id"] for row in exported] == list(range(1, 11))


@pytest.mark.usefixtures("small_batches")
async def test_csv_export_holds_every_row(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _fill(log, 10)
    lines = await _export(sessions, "csv")
    assert lines[0] == ",".join(EXPORT_FIELDS) + "\n"
    parsed = list(csv.DictReader(io.StringIO("".join(lines))))
    expected = [
        {k: "" if v is None else str(v) for k, v in _as_text(e).items()}
        for e in await _all_entries(sessions)
    ]
    assert parsed == expected


async def test_an_exported_row_can_be_rehashed_by_hand(
    log: AuditLog, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The export carries exactly what was hashed, so the chain can be checked outside the bot."""
    import hashlib

    await _fill(log, 2)
    second = json.loads((await _export(sessions, "jsonl"))[1])
    content = {k: v for k, v in second.items() if k not in ("id", "hash")}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256((second["prev_hash"] + canonical).encode()).hexdigest()
    assert digest == second["hash"]


async def test_an_unknown_export_format_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(ValueError, match="jsonl or csv"):
        await _export(sessions, "xml")


# The CLI, as a separate process reading DATABASE_URL


def _cli(db_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_file}"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _make_log_file(db_file: Path, rows: int) -> None:
    async def fill() -> None:
        engine = make_engine(f"sqlite:///{db_file}")
        await upgrade_database(engine)
        await _fill(AuditLog(session_factory(engine)), rows)
        await engine.dispose()

    asyncio.run(fill())


def test_cli_verify_passes_a_good_log(db_file: Path) -> None:
    _make_log_file(db_file, 5)
    result = _cli(db_file, "verify")
    assert result.returncode == 0, result.stderr
    head = asyncio.run(_head_hash(db_file))
    assert result.stdout == f"audit log OK: 5 rows, head {head}\n"


async def _head_hash(db_file: Path) -> str:
    engine = make_engine(f"sqlite:///{db_file}")
    async with session_factory(engine)() as session:
        (head,) = await recent_entries(session, 1)
    await engine.dispose()
    return head.hash


def test_cli_verify_names_the_tampered_row(db_file: Path) -> None:
    _make_log_file(db_file, 5)
    _tamper(db_file, "UPDATE audit_entries SET target = 'workspace other' WHERE id = 3")
    result = _cli(db_file, "verify")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("audit log BROKEN at row 3: edited")


def test_cli_export_writes_csv_to_stdout(db_file: Path) -> None:
    _make_log_file(db_file, 5)
    result = _cli(db_file, "export", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["id"] for row in rows] == ["1", "2", "3", "4", "5"]
    assert rows[0]["prev_hash"] == GENESIS_HASH


def test_cli_export_defaults_to_jsonl(db_file: Path) -> None:
    _make_log_file(db_file, 3)
    result = _cli(db_file, "export")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1, 2, 3]


def test_cli_says_so_when_the_database_has_no_audit_log(db_file: Path) -> None:
    result = _cli(db_file, "verify")
    assert result.returncode == 2
    assert "no audit log in sqlite:///" in result.stderr
    assert result.stdout == ""

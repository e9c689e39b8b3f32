"""The keyed audit chain (issue 13, item 9): rows HMAC-keyed under CHATOPS_AUDIT_KEY, so an edit
whose hashes are recomputed without the key, or a forged row appended, fails `audit verify`;
its head hash is printed, and `--expect` shows a truncation against an anchored head. Also the
cap on stored command text (item 2). The CLI runs as a subprocess on a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.audit import (
    MAX_COMMAND_TEXT,
    AuditEntry,
    AuditLog,
    AuditUnavailable,
    Outcome,
    anchor_due,
    entry_hash,
    recent_entries,
)
from storage.database import make_engine, session_factory
from storage.migrate import upgrade_database
from tests.helpers.emulators import Emulator
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import demo_emulator, running_bot

KEY = "audit-key-for-tests-7c2e"


def _row(i: int) -> dict:
    return {
        "slack_user_id": f"U{i}",
        "slack_user_name": f"user{i}",
        "team_id": "T1",
        "channel_id": "C1",
        "command_text": f"workspace create ws{i}",
        "area": "workspaces",
        "action": "create",
        "target": f"workspace ws{i}",
        "outcome": Outcome.OK,
        "duration_ms": i,
    }


def _fill(db_file: Path, rows: range, key: str | None) -> list[AuditEntry]:
    async def fill() -> list[AuditEntry]:
        engine = make_engine(f"sqlite:///{db_file}")
        await upgrade_database(engine)
        log = AuditLog(session_factory(engine), key.encode() if key else None)
        written = [await log.record(**_row(i)) for i in rows]
        await engine.dispose()
        return written

    return asyncio.run(fill())


def _verify(db_file: Path, *args: str, key: str | None = KEY) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_file}"}
    env.pop("CHATOPS_AUDIT_KEY", None)
    if key is not None:
        env["CHATOPS_AUDIT_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", "verify", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _sql(db_file: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(db_file) as connection:
        connection.execute(statement, params)


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "chatops.db"


def test_keyed_rows_verify_and_print_the_head(db_file: Path) -> None:
    written = _fill(db_file, range(5), KEY)
    assert all(e.hash.startswith("hmac-sha256:") for e in written)
    result = _verify(db_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == f"audit log OK: 5 rows, head {written[-1].hash}\n"


def test_an_edit_rehashed_without_the_key_fails(db_file: Path) -> None:
    written = _fill(db_file, range(5), KEY)
    # What someone with the database but not the key can do: edit row 3 and recompute its
    # hash (plain, or under a guessed key) and every hash after it.
    for guessed in (None, b"guessed"):
        prev = written[1].hash
        for entry in written[2:]:
            entry.prev_hash = prev
            if entry.id == 3:
                entry.target = "workspace other"
            entry.hash = entry_hash(entry, guessed)
            _sql(
                db_file,
                "UPDATE audit_entries SET target = ?, prev_hash = ?, hash = ? WHERE id = ?",
                entry.target,
                entry.prev_hash,
                entry.hash,
                entry.id,
            )
            prev = entry.hash
        result = _verify(db_file)
        assert result.returncode == 1, result.stdout
        assert result.stdout.startswith("audit log BROKEN at row 3:"), result.stdout


def test_a_forged_row_appended_fails(db_file: Path) -> None:
    written = _fill(db_file, range(3), KEY)
    forged = AuditEntry(at=datetime.now(UTC), prev_hash=written[-1].hash, hash="", **_row(9))
    for hashed in (entry_hash(forged), entry_hash(forged, b"not the key")):
        _sql(db_file, "DELETE FROM audit_entries WHERE id > 3")
        _sql(
            db_file,
            "INSERT INTO audit_entries (at, slack_user_id, slack_user_name, team_id, "
            "channel_id, command_text, area, action, target, outcome, duration_ms, prev_hash, "
            "hash) VALUES (?, 'U9', 'user9', 'T1', 'C1', 'workspace create ws9', 'workspaces', "
            "'create', 'workspace ws9', 'ok', 9, ?, ?)",
            forged.at.isoformat(),
            forged.prev_hash,
            hashed,
        )
        result = _verify(db_file)
        assert result.returncode == 1 and "BROKEN at row 4" in result.stdout, result.stdout


def test_truncation_shows_against_the_anchored_head(db_file: Path) -> None:
    written = _fill(db_file, range(6), KEY)
    anchored = written[-1].hash
    assert _verify(db_file, "--expect", anchored).returncode == 0
    assert _verify(db_file, "--expect", written[2].hash).returncode == 0  # rows after: fine
    _sql(db_file, "DELETE FROM audit_entries WHERE id > 4")
    # The rest of the chain is intact: only the anchor shows what was cut off.
    assert _verify(db_file).returncode == 0
    result = _verify(db_file, "--expect", anchored)
    assert result.returncode == 1
    assert "no row has the expected hash" in result.stdout and anchored in result.stdout


def test_an_unkeyed_log_keeps_verifying_and_is_sealed_by_the_first_keyed_row(
    db_file: Path,
) -> None:
    old = _fill(db_file, range(3), None)
    new = _fill(db_file, range(3, 5), KEY)
    assert not old[-1].hash.startswith("hmac") and new[0].prev_hash == old[-1].hash
    assert _verify(db_file).returncode == 0
    assert _verify(db_file, key=None).returncode == 2  # keyed rows need the key
    # An unkeyed row edited and rehashed is caught at the first keyed row, whose HMAC
    # covers its link.
    old[2].target = "workspace other"
    _sql(
        db_file,
        "UPDATE audit_entries SET target = ?, hash = ? WHERE id = 3",
        old[2].target,
        entry_hash(old[2]),
    )
    result = _verify(db_file)
    assert result.returncode == 1 and "BROKEN at row 4" in result.stdout, result.stdout


def test_no_unkeyed_row_is_appended_after_keyed_ones(db_file: Path) -> None:
    _fill(db_file, range(2), KEY)
    with pytest.raises(AuditUnavailable, match="CHATOPS_AUDIT_KEY is not set"):
        _fill(db_file, range(2, 3), None)


def test_command_text_is_capped(db_file: Path) -> None:
    async def record() -> AuditEntry:
        engine = make_engine(f"sqlite:///{db_file}")
        await upgrade_database(engine)
        log = AuditLog(session_factory(engine), KEY.encode())
        await log.record(**{**_row(0), "command_text": "x" * 10_000_000})
        async with session_factory(engine)() as session:
            (stored,) = await recent_entries(session, 1)
        await engine.dispose()
        return stored

    stored = asyncio.run(record())
    assert len(stored.command_text) < MAX_COMMAND_TEXT + 40
    assert stored.command_text.endswith("… (10,000,000 characters)")
    assert _verify(db_file).returncode == 0


def test_an_anchor_is_due_every_n_rows_and_daily(db_file: Path) -> None:
    async def due_after(rows: int, anchor_at: int | None, later: timedelta) -> object:
        engine = make_engine(f"sqlite:///{db_file}")
        await upgrade_database(engine)
        log = AuditLog(session_factory(engine), KEY.encode())
        for i in range(rows):
            if i == anchor_at:
                await log.record(**{**_row(i), "area": "audit", "action": "anchor"})
            await log.record(**_row(i))
        async with session_factory(engine)() as session:
            due = await anchor_due(session, 5, timedelta(days=1), datetime.now(UTC) + later)
        await engine.dispose()
        return due

    assert asyncio.run(due_after(4, None, timedelta(0))) is None
    db_file.unlink()
    assert asyncio.run(due_after(5, None, timedelta(0))) is not None
    db_file.unlink()
    assert asyncio.run(due_after(7, 3, timedelta(0))) is None  # 4 rows since the anchor...
    db_file.unlink()
    assert asyncio.run(due_after(7, 3, timedelta(days=1, seconds=1))) is not None  # ...a day


def test_the_head_is_anchored_in_chat_and_the_anchor_audited(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    overrides = {
        "chatops_audit_key": KEY,
        "chatops_audit_channel": "CAUDIT",
        "chatops_audit_anchor_rows": 3,
    }
    with running_bot(demo_emulator(start_emulator), tmp_path, **overrides) as bot:
        for text in ("workspaces", "workspace create anchored", "features"):
            response, key = bot.command(text)
            assert response.status_code == 200
            bot.reply_to(key)

        async def newest_two() -> list[AuditEntry]:
            async with bot.services.sessions() as session:
                return await recent_entries(session, 2)

        # Each command's (outcome) row is written just after its reply: all 4 are in first.
        wait_until(lambda: bot.run(newest_two)[0].command_text == "features")
        bot.poll_once()
        bot.poll_once()  # nothing new since the anchor: no second one
        anchor, anchored = bot.run(newest_two)
    posts = [p for p in bot.slack.api_calls("chat.postMessage") if p.get("channel") == "CAUDIT"]
    assert len(posts) == 1 and anchored.hash in json.dumps(posts[0])
    assert (anchor.area, anchor.action, anchor.target) == ("audit", "anchor", anchored.hash)
    assert anchor.outcome == "ok" and anchor.prev_hash == anchored.hash
    assert _verify(tmp_path / "chatops.db", "--expect", anchored.hash).returncode == 0

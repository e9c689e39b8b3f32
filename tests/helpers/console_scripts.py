"""What the tests piping scripts into the demo's console share: the console run with a script
piped in, the grants that make alice and bob approvers, the answer printed after a piped line,
and the audit rows of its clicks."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

from bot.demo import serve_console
from storage.audit import AuditEntry, recent_entries
from storage.database import make_engine, session_factory
from tests.helpers.emulators import Emulator

# Both may decide requests (approver includes operator): only four-eyes stops alice.
GRANTS = ["access grant @alice approver", "access grant @bob approver"]


def run_console(
    emulator: Emulator, db_dir: Path, lines: list[str], user: str = "UADMIN", **settings: Any
) -> str:
    """The demo's console, `lines` piped in (as `user`), polling when the clock moves; what it
    printed. The bot's database is in `db_dir`: a second run there carries on from the first."""
    settings = emulator.bot_settings(
        db_dir, chatops_poll_seconds=3600, chatops_channel_pacing_seconds=0, **settings
    )
    out = io.StringIO()
    script = io.StringIO("\n".join(lines) + "\n")
    status = asyncio.run(
        serve_console(
            settings, user, poll=True, emulator_url=emulator.url, stdin=script, stdout=out
        )
    )
    assert status == 0, out.getvalue()
    return out.getvalue()


def answer_to(out: str, line: str) -> str:
    """What the console printed after the piped `line` (its first occurrence), up to the next."""
    return out.split(f"$ {line}\n", 1)[1].split("\n$ ", 1)[0]


def audit_rows(db_dir: Path) -> list[AuditEntry]:
    async def read() -> list[AuditEntry]:
        engine = make_engine(f"sqlite:///{db_dir}/chatops.db")
        try:
            async with session_factory(engine)() as session:
                return list(reversed(await recent_entries(session, 200)))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def clicks(db_dir: Path, prefix: str) -> list[tuple[str, str, str]]:
    """(user, command text, outcome) of the audit rows whose text starts with `prefix`."""
    rows = audit_rows(db_dir)
    return [
        (r.slack_user_id, r.command_text, r.outcome)
        for r in rows
        if r.command_text.startswith(prefix)
    ]

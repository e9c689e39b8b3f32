"""What the tests piping scripts into the demo's console share: the grants that make alice
and bob approvers, the answer printed after a piped line, and the audit rows of its clicks."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage.audit import AuditEntry, recent_entries
from storage.database import make_engine, session_factory

# Both may decide requests (approver includes operator): only four-eyes stops alice.
GRANTS = ["access grant @alice approver", "access grant @bob approver"]


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

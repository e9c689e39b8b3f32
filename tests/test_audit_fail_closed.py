"""A bot that cannot write its audit log changes nothing (issue 13, item 1): writes are refused
before Wallaroo is called, reads still answer, and /readyz says the database takes no write.
Over real servers: the emulator, a fake Slack, signed requests into /slack/events.

The read-only database is a SQLite URI opened `mode=ro`: the tests may run as root, whom a
file's mode does not stop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import text

from handlers.commands.router import handle_command
from handlers.render.approval_messages import APPROVE_ACTION
from handlers.render.blocks import render_text
from storage.audit import recent_entries
from storage.database import make_engine
from storage.migrate import upgrade_database
from tests.helpers.commands import ADMIN
from tests.helpers.emulators import Emulator
from tests.helpers.slack_bot import Bot, demo_emulator, running_bot

REFUSED = "The audit log cannot be written, so nothing was changed"


def _read_only_url(tmp_path: Path) -> str:
    """A migrated SQLite file, opened read-only."""
    path = tmp_path / "chatops.db"

    async def migrate() -> None:
        engine = make_engine(f"sqlite:///{path}")
        await upgrade_database(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def _say(bot: Bot, text: str, user: str = "UADMIN") -> str:
    response, key = bot.command(text, user)
    assert response.status_code == 200, response.text
    return json.dumps(bot.reply_to(key))


def _audit_rows_refused(tmp_path: Path) -> None:
    """A migrated SQLite file whose audit table takes no row (what a full disk does to the
    audit log alone): every other table still takes writes."""
    path = tmp_path / "chatops.db"

    async def migrate() -> None:
        engine = make_engine(f"sqlite:///{path}")
        await upgrade_database(engine)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "CREATE TRIGGER audit_full BEFORE INSERT ON audit_entries "
                    "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
                )
            )
        await engine.dispose()

    asyncio.run(migrate())


def test_writes_and_clicks_are_refused_before_wallaroo_when_audit_rows_fail(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = demo_emulator(start_emulator)
    _audit_rows_refused(tmp_path)
    creates = emulator.calls_to("/v1/api/workspaces/create")
    with running_bot(emulator, tmp_path) as bot:
        created = _say(bot, "workspace create never-made")
        invited = _say(bot, "user invite nobody@example.com")
        clicked_response, key = bot.click(APPROVE_ACTION, "1", "UADMIN")
        clicked = json.dumps(bot.reply_to(key))
        listing = _say(bot, "workspaces")
    for reply in (created, invited, clicked):
        assert REFUSED in reply and "database or disk is full" in reply, reply
        assert "Created" not in reply and "Traceback" not in reply
    assert clicked_response.status_code == 200
    assert emulator.calls_to("/v1/api/workspaces/create") == creates
    assert emulator.calls_to("/v1/api/users/invite") == 0
    assert "housepricedrift" in listing  # reads still answer


def test_a_read_only_database_changes_nothing_and_is_not_ready(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = demo_emulator(start_emulator)
    creates = emulator.calls_to("/v1/api/workspaces/create")
    with running_bot(emulator, tmp_path, database_url=_read_only_url(tmp_path)) as bot:
        response, key = bot.command("workspace create never-made")
        ready = httpx.get(f"{bot.url}/readyz", timeout=10)
        console = bot.run(lambda: handle_command(bot.services, ADMIN, "workspace create nope"))
        read = bot.run(lambda: handle_command(bot.services, ADMIN, "workspaces"))
    # Over Slack the request is refused before any handler (its replay record cannot be
    # stored) or by the router; the console has no such guard, and the router refuses it.
    if response.status_code == 200:
        assert REFUSED in json.dumps(bot.reply_to(key))
    assert REFUSED in render_text(console) and "readonly database" in render_text(console)
    assert "housepricedrift" in render_text(read)
    assert emulator.calls_to("/v1/api/workspaces/create") == creates
    assert ready.status_code == 503
    assert ready.json()["ready"] is False
    assert "does not take a write" in ready.json()["database"]
    assert "readonly" in ready.json()["database"]


def test_a_write_is_an_intent_row_then_its_outcome(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = demo_emulator(start_emulator)
    with running_bot(emulator, tmp_path) as bot:
        creates = emulator.calls_to("/v1/api/workspaces/create")
        assert "Created" in _say(bot, "workspace create made-once")
        assert "housepricedrift" in _say(bot, "workspaces")
        ready = httpx.get(f"{bot.url}/readyz", timeout=10)

        async def newest() -> list:
            async with bot.services.sessions() as session:
                return await recent_entries(session, 3)

        listing, outcome, intent = bot.run(newest)
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    assert emulator.calls_to("/v1/api/workspaces/create") == creates + 1
    assert (intent.command_text, intent.outcome, intent.target) == (
        "workspace create made-once",
        "intent",
        "",
    )
    assert outcome.outcome == "ok" and outcome.target.endswith(f"(intent #{intent.id})")
    assert (listing.command_text, listing.outcome) == ("workspaces", "ok")  # a read: one row

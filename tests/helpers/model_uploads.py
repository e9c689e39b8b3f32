"""What the model upload tests share: a command's reply, the emulator's stored versions, the
progress message's texts."""

from __future__ import annotations

import json
import uuid

from storage.audit import AuditEntry, recent_entries
from tests.helpers.emulators import Emulator
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import Bot

WS = "housepricedrift"  # the demo's workspace
ADMINS = {"chatops_admins": "UADMIN"}


def ask(bot: Bot, text: str, user: str = "UADMIN") -> str:
    response, key = bot.command(text, user)
    assert response.status_code == 200
    return json.dumps(bot.reply_to(key))


def model_name() -> str:
    return f"m{uuid.uuid4().hex[:8]}"


def versions(drift: Emulator, name: str) -> list[dict]:
    rows = drift.state.db.all(
        "SELECT v.* FROM model_versions v JOIN models m ON m.id = v.models_pk_id WHERE m.name = ?",
        (name,),
    )
    return [dict(r) for r in rows]


def progress_texts(slack: FakeSlack) -> list[str]:
    """The progress message as posted, then each edit, in order."""
    posts = [b for b in slack.api_calls("chat.postMessage") if "Uploading" in str(b.get("text"))]
    edits = [b for b in slack.api_calls("chat.update") if "Uploading" in str(b.get("text"))]
    return [str(b.get("text")) for b in [*posts, *edits]]


def audited(bot: Bot, text_part: str, outcome: str, timeout: float = 10.0) -> AuditEntry:
    """The audit row of a command or click whose text holds `text_part`, once it is written
    with `outcome` (a command's row is written just after its reply is delivered)."""

    async def rows() -> list[AuditEntry]:
        async with bot.services.sessions() as session:
            return await recent_entries(session, 50)

    def found() -> AuditEntry | None:
        for row in bot.run(rows):
            if text_part in row.command_text and row.outcome == outcome:
                return row
        return None

    return wait_until(found, timeout=timeout)

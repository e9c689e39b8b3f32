"""Issue 13's smaller findings: a hostile workspace name in `watch`'s hint, invisible bidi and
zero-width characters, capability URLs and bodies in DEBUG logs, and the last admin revoking
their own role. Commands go signed into the real /slack/events, Wallaroo is the emulator."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.logs import configure_logging
from handlers.render.mrkdwn import code, escape
from tests.helpers.emulators import Emulator
from tests.helpers.slack_bot import Bot, running_bot

HOSTILE = "<!channel> ws&<@U0>"


@pytest.fixture(scope="module")
def emulator(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    return start_module_emulator()


def ask(bot: Bot, text: str, user: str = "UADMIN") -> str:
    response, key = bot.command(text, user)
    assert response.status_code == 200
    return json.dumps(bot.reply_to(key))


def test_the_unwatch_hint_escapes_a_hostile_workspace_name(
    emulator: Emulator, tmp_path: Path
) -> None:
    admin = emulator.admin()
    workspace_id = admin.ok("workspaces/create", {"workspace_name": HOSTILE})["workspace_id"]
    pipeline = f"p{uuid.uuid4().hex[:8]}"
    admin.ok(
        "pipelines/create",
        {"pipeline_id": pipeline, "workspace_id": workspace_id, "definition": {}},
    )
    with running_bot(emulator, tmp_path) as bot:
        assert "Watching" in ask(bot, f"watch {workspace_id} {pipeline}")
        again = ask(bot, f"watch {workspace_id} {pipeline}")
    assert "is already watched" in again and "unwatch" in again
    assert "<!channel>" not in again and "<@U0>" not in again
    assert "&lt;!channel&gt; ws&amp;&lt;@U0&gt;" in again


@pytest.mark.parametrize(
    "hidden",
    [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
    + [chr(c) for c in (0x200B, 0x200C, 0x200D, 0xFEFF, 0x2060)],
)
def test_invisible_formatting_characters_are_dropped(hidden: str) -> None:
    name = f"prod{hidden}-gpj.exe"
    assert escape(name) == "prod-gpj.exe"
    assert code(name) == "`prod-gpj.exe`"


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The bot's own log handler, at DEBUG, writing where the test can read it."""
    root = logging.getLogger()
    saved = root.handlers, root.level
    out = io.StringIO()
    configure_logging("text", "DEBUG", stream=out)
    try:
        yield out
    finally:
        root.handlers, root.level = saved
        root.setLevel(saved[1])


def test_debug_logs_redact_response_urls_tokens_and_slack_bodies(debug_log: io.StringIO) -> None:
    url = "https://hooks.slack.com/commands/T1/123456/SeCrEtCaPaBiLiTy"
    secret_text = "the quarterly numbers are " + "x" * 400
    # Loggers of their own, at DEBUG whatever levels other tests left on bolt's and slack_sdk's.
    bolt, sdk = (logging.getLogger(f"{lib}.test_logs") for lib in ("slack_bolt", "slack_sdk"))
    for logger in (bolt, sdk):
        logger.setLevel(logging.DEBUG)
    bolt.debug("Parsed body: %s", {"response_url": url})
    sdk.debug(
        "Sending a request - url: https://slack.com/api/chat.postMessage, json_body: %s",
        json.dumps({"channel": "C1", "text": secret_text}),
    )
    logging.getLogger("bot.adapters").debug("form: response_url=%s", url.replace("/", "%2F"))
    logging.getLogger("bot.chat").debug("token xoxb-1234-abcd in a line")
    logged = debug_log.getvalue()
    assert "SeCrEtCaPaBiLiTy" not in logged and "hooks.slack.com" not in logged
    assert "xoxb-1234" not in logged and "x" * 100 not in logged
    assert "chat.postMessage" in logged  # what was called is still said
    assert logged.count("[redacted]") >= 3 and "characters not logged" in logged


def test_the_last_admin_cannot_revoke_their_own_admin_role(
    emulator: Emulator, tmp_path: Path
) -> None:
    with running_bot(emulator, tmp_path) as bot:  # UADMIN is admin from CHATOPS_ADMINS
        assert "the last admin" in ask(bot, "access revoke <@UADMIN|a> admin")
        assert "now has the *admin* role" in ask(bot, "access grant <@UONLY|o> admin")
    # Restarted without CHATOPS_ADMINS: the admin granted in chat is the only one left.
    with running_bot(emulator, tmp_path, chatops_admins="") as bot:
        refusal = ask(bot, "access revoke <@UONLY|o> admin", "UONLY")
        assert "is the last admin" in refusal and "Grant someone else" in refusal
        assert "UONLY" in ask(bot, "access list", "UONLY")
        assert "refused" in ask(bot, "audit 3", "UONLY")
        ask(bot, "access grant <@UTWO|t> admin", "UONLY")
        assert "no longer has the *admin* role" in ask(
            bot, "access revoke <@UONLY|o> admin", "UONLY"
        )
        assert "the last admin" in ask(bot, "access revoke <@UTWO|t> admin", "UTWO")

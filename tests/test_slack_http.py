"""Signed slash commands into the real /slack/events endpoint served over loopback, answered
through a fake Slack's response URLs; forged, unsigned and stale requests get 401."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.logs import configure_logging
from emulator.server import serve_in_thread
from tests.helpers.commands import BAD, HAPPY, WRITES
from tests.helpers.emulators import Emulator
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import SIGNING_SECRET, Bot, demo_emulator, running_bot


@pytest.fixture
def bot(start_emulator: Callable[..., Emulator], tmp_path: Path) -> Iterator[Bot]:
    with running_bot(demo_emulator(start_emulator), tmp_path) as started:
        yield started


@pytest.fixture(scope="module")
def shared_bot(
    start_module_emulator: Callable[..., Emulator], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bot]:
    """One bot for the read-only commands, which leave nothing behind for each other."""
    emulator = demo_emulator(start_module_emulator)
    with running_bot(emulator, tmp_path_factory.mktemp("bot")) as started:
        yield started


@pytest.mark.parametrize(("command", "expected"), HAPPY + BAD)
def test_every_read_and_bad_input_over_signed_http(
    shared_bot: Bot, command: str, expected: str
) -> None:
    response, key = shared_bot.command(command)
    assert response.status_code == 200 and response.text == ""
    assert expected in str(shared_bot.reply_to(key)), command


def test_every_write_over_signed_http(bot: Bot) -> None:
    for command, expected in WRITES:
        response, key = bot.command(command)
        assert response.status_code == 200
        assert expected in str(bot.reply_to(key)), command


def test_signed_command_is_acked_and_answered_through_the_response_url(bot: Bot) -> None:
    response, key = bot.command("pipelines housepricedrift")
    assert response.status_code == 200
    reply = bot.reply_to(key)
    assert "housepricepipe" in str(reply["blocks"])
    assert reply["response_type"] == "ephemeral"


def test_bad_input_is_answered_not_crashed(bot: Bot) -> None:
    response, key = bot.command("pipelinez housepricedrift")
    assert response.status_code == 200
    assert "Did you mean" in str(bot.reply_to(key))


@pytest.mark.parametrize(
    "kwargs",
    [{"secret": "forged-secret"}, {"signed": False}, {"age_seconds": 6 * 60}],
    ids=["forged", "unsigned", "stale"],
)
def test_forged_unsigned_and_stale_requests_get_401_and_change_nothing(
    bot: Bot, kwargs: dict
) -> None:
    response, key = bot.command("workspace create should-not-exist", **kwargs)
    assert response.status_code == 401
    # A real command afterwards shows the workspace was not created and nothing was answered
    # (a listener runs only after the signature check, which answered 401 before it).
    _, check = bot.command("workspaces")
    assert "should-not-exist" not in str(bot.reply_to(check))
    assert [c for c in bot.slack.calls if c.path == f"/respond/{key}"] == []


def test_healthz(bot: Bot) -> None:
    assert httpx.get(f"{bot.url}/healthz").json() == {"status": "ok"}


def test_no_token_or_secret_reaches_logs_audit_rows_or_replies(
    start_emulator: Callable[..., Emulator], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator = demo_emulator(start_emulator, client_secret="client-secret-5f1e9a")
    bot_token = "xoxb-bot-token-77c2d1"
    commands = ("workspaces", "features", "audit 20", "user invite x@example.com", "pipelines x")
    with running_bot(emulator, tmp_path, bot_token) as bot:
        keys = [bot.command(text)[1] for text in commands]
        replies = [bot.reply_to(key) for key in keys]
    # Every access token is a JWT, and every JWT starts with "eyJ" ('{"' in base64).
    secrets = {bot_token, SIGNING_SECRET, "client-secret-5f1e9a", "eyJ"}
    exported = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "export", "--format", "jsonl"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/chatops.db"},
    ).stdout
    assert exported.count("\n") >= 5
    # The logs were captured from the server threads (so their absence of secrets means something).
    assert "POST workspaces/list" in caplog.text
    haystacks = {"logs": caplog.text, "audit": exported, "replies": str(replies)}
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a secret reached the {where}"


def test_readyz_is_ready_and_says_why_not_when_wallaroo_fails(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = start_emulator()
    with running_bot(emulator, tmp_path) as bot:
        ready = httpx.get(f"{bot.url}/readyz", timeout=10)
        assert ready.status_code == 200
        assert ready.json() == {"ready": True, "database": "ok", "wallaroo": "ok"}
        emulator.control(
            "faults", {"path_prefix": "/v1/api/features", "error_rate": 1.0, "status": 500}
        )
        down = httpx.get(f"{bot.url}/readyz", timeout=10)
        assert down.status_code == 503
        body = down.json()
        assert body["ready"] is False and body["database"] == "ok"
        assert "features/list" in body["wallaroo"] and "500" in body["wallaroo"]


def test_metrics_count_commands_acks_and_wallaroo_errors(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = demo_emulator(start_emulator)
    # An unknown assay is the bot's own answer now (issue 16): Wallaroo's 404 comes from a fault.
    fault = {"path_prefix": "/v1/api/features", "error_rate": 1.0, "status": 404}
    with running_bot(emulator, tmp_path) as bot:
        emulator.control("faults", fault)
        for text in ("workspaces", "workspaces", "pipelinez", "features"):
            bot.reply_to(bot.command(text)[1])
        bot.command("workspaces", secret="forged")  # refused by bolt: timed, but no command
        text = httpx.get(f"{bot.url}/metrics").text
    assert 'chatops_commands_total{area="workspaces",outcome="ok"} 2.0' in text
    assert 'chatops_commands_total{area="unparsed",outcome="invalid"} 1.0' in text
    assert "chatops_ack_seconds_count 5.0" in text
    assert 'chatops_wallaroo_errors_total{kind="WallarooNotFound"} 1.0' in text


def test_logs_are_json_lines_with_one_request_id_per_slack_request(bot: Bot) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("json", "INFO", stream)
    try:
        _, key = bot.command("workspaces")
        bot.reply_to(key)
        _, key = bot.command("pipelinez oops")
        bot.reply_to(key)
        wait_until(lambda: stream.getvalue().count('"command ') >= 2)
    finally:
        root.handlers, root.level = saved
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    commands = [r for r in records if r["message"].startswith("command ")]
    assert {r["outcome"] for r in commands} == {"ok", "invalid"}
    for record in commands:
        assert {"time", "level", "logger", "request_id", "user"} <= record.keys()
        assert record["request_id"].startswith("slack-")
    assert len({r["request_id"] for r in commands}) == 2


def test_socket_mode_takes_a_slash_command_over_a_websocket(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    """`wallaroo-chatops socket` as a real process against a fake Slack's Socket Mode."""
    emulator = demo_emulator(start_emulator)
    slack = FakeSlack()
    with serve_in_thread(slack.app()) as slack_url:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CHATOPS_"))},
            "SLACK_APP_TOKEN": "xapp-socket-test",
            "SLACK_BOT_TOKEN": "xoxb-socket-test",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": f"{slack_url}/api/",
            "WALLAROO_API_URL": emulator.api_url,
            "WALLAROO_TOKEN_URL": emulator.token_url,
            "WALLAROO_CLIENT_SECRET": emulator.config.client_secret,
            "DATABASE_URL": f"sqlite:///{tmp_path}/socket.db",
            "CHATOPS_ADMINS": "UADMIN",
            "SLACK_TEAM_IDS": "T1",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "socket"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            slack.wait_for("/api/apps.connections.open", 1, timeout=30)
            key = uuid.uuid4().hex

            def envelope(
                envelope_id: str,
                team_id: str,
                trigger_id: str,
                text: str = "pipelines housepricedrift",
            ) -> dict[str, Any]:
                return {
                    "envelope_id": envelope_id,
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": {
                        "command": "/wallaroo",
                        "text": text,
                        "user_id": "UADMIN",
                        "user_name": "admin",
                        "team_id": team_id,
                        "channel_id": "C1",
                        "response_url": f"{slack_url}/respond/{key}",
                        "trigger_id": trigger_id,
                        "api_app_id": "A1",
                    },
                }

            slack.socket_outbox.put(envelope("env-1", "T1", "1.2.3"))
            (ack,) = slack.wait_for("/socket#ack", 1)
            assert ack.body["envelope_id"] == "env-1"
            (reply,) = slack.wait_for(f"/respond/{key}", 1)
            assert "housepricepipe" in json.dumps(reply.body)
            # Socket Mode has no signature, but the same team and replay checks: a second
            # delivery of the command, and one from another workspace, are acked, not run.
            slack.socket_outbox.put(envelope("env-2", "T1", "1.2.3"))
            slack.socket_outbox.put(envelope("env-3", "T9", "4.5.6"))
            acks = {a.body["envelope_id"]: a.body for a in slack.wait_for("/socket#ack", 3)}
            assert "Refused: this workspace may not use this bot" in json.dumps(acks["env-3"])
            assert "Refused" not in json.dumps(acks["env-2"])
            slack.socket_outbox.put(envelope("env-4", "T1", "7.8.9", "workspaces"))  # runs
            replies = slack.wait_for(f"/respond/{key}", 2)
            assert "housepricedrift" in json.dumps(replies[-1].body)
            assert len(slack.wait_for(f"/respond/{key}", 2)) == 2  # the replay did not run
        finally:
            process.terminate()
            _, stderr = process.communicate(timeout=20)
        assert "Traceback" not in stderr, stderr

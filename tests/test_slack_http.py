"""Signed slash commands into the real /slack/events endpoint served over loopback, answered
through a fake Slack's response URLs; forged, unsigned and stale requests get 401."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.adapters.http import create_http_app
from bot.logs import configure_logging
from emulator.server import serve_in_thread
from tests.conftest import Emulator
from tests.fake_slack import FakeSlack
from tests.test_commands import BAD, HAPPY, WRITES

SIGNING_SECRET = "test-signing-secret-4d1b"


@dataclass
class Bot:
    url: str
    slack: FakeSlack
    slack_url: str

    def command(
        self,
        text: str,
        user: str = "UADMIN",
        *,
        secret: str = SIGNING_SECRET,
        age_seconds: int = 0,
        signed: bool = True,
    ) -> tuple[httpx.Response, str]:
        """POST a slash command as Slack would; returns the HTTP answer and its response key."""
        key = uuid.uuid4().hex
        body = urlencode(
            {
                "command": "/wallaroo",
                "text": text,
                "user_id": user,
                "user_name": user.lower(),
                "team_id": "T1",
                "channel_id": "C1",
                "channel_name": "ml-ops",
                "response_url": f"{self.slack_url}/respond/{key}",
                "trigger_id": "1.2.3",
                "api_app_id": "A1",
            }
        )
        timestamp = str(int(time.time()) - age_seconds)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
            headers |= {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
        return httpx.post(f"{self.url}/slack/events", content=body, headers=headers), key

    def interact(self, payload: dict, *, secret: str = SIGNING_SECRET) -> httpx.Response:
        """POST an interaction (a button click, a modal submission) as Slack would."""
        body = urlencode({"payload": json.dumps(payload)})
        return self.signed_post(body, "application/x-www-form-urlencoded", secret)

    def event(self, event: dict, *, secret: str = SIGNING_SECRET) -> httpx.Response:
        """POST an Events API callback (app_home_opened, ...) as Slack would."""
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": "T1",
                "api_app_id": "A1",
                "event": event,
                "event_id": f"Ev{uuid.uuid4().hex[:8]}",
                "event_time": int(time.time()),
            }
        )
        return self.signed_post(body, "application/json", secret)

    def signed_post(self, body: str, content_type: str, secret: str) -> httpx.Response:
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }
        return httpx.post(f"{self.url}/slack/events", content=body, headers=headers)

    def click(self, action_id: str, value: str, user: str) -> tuple[httpx.Response, str]:
        """Click a button of a message in C1; returns the HTTP answer and its response key."""
        key = uuid.uuid4().hex
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": "T1"},
            "team": {"id": "T1", "domain": "example"},
            "channel": {"id": "C1", "name": "ml-ops"},
            "api_app_id": "A1",
            "trigger_id": f"trigger-{key}",
            "response_url": f"{self.slack_url}/respond/{key}",
            "container": {"type": "message", "channel_id": "C1", "message_ts": "1.0"},
            "actions": [
                {"type": "button", "action_id": action_id, "block_id": "b", "value": value}
            ],
        }
        return self.interact(payload), key

    def reply_to(self, key: str) -> dict:
        (call,) = self.slack.wait_for(f"/respond/{key}", 1) or [None]
        assert call is not None, f"no reply reached response URL {key}"
        return call.body


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll `predicate` until it returns something truthy (returned), or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@contextmanager
def running_bot(
    emulator: Emulator,
    db_dir: Path,
    bot_token: str = "xoxb-test-token-not-real",
    slack: FakeSlack | None = None,
    **overrides: Any,
) -> Iterator[Bot]:
    """The bot's HTTP app on loopback, its Slack calls going to a fake Slack."""
    slack = slack or FakeSlack()
    with serve_in_thread(slack.app()) as slack_url:
        settings = emulator.bot_settings(
            db_dir,
            slack_bot_token=bot_token,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=f"{slack_url}/api/",
            **overrides,
        )
        with serve_in_thread(create_http_app(settings), lifespan="on") as url:
            yield Bot(url, slack, slack_url)


def demo_emulator(start_emulator: Callable[..., Emulator], **config: object) -> Emulator:
    return start_emulator(seed_demo=True, deployment_startup_seconds=0, **config)


@pytest.fixture
def bot(start_emulator: Callable[..., Emulator], tmp_path: Path) -> Iterator[Bot]:
    with running_bot(demo_emulator(start_emulator), tmp_path) as started:
        yield started


@pytest.fixture(scope="module")
def shared_bot(
    start_emulator: Callable[..., Emulator], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bot]:
    """One bot for the read-only commands, which leave nothing behind for each other."""
    with running_bot(demo_emulator(start_emulator), tmp_path_factory.mktemp("bot")) as started:
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
    # A real command afterwards shows the workspace was not created and nothing was answered.
    _, check = bot.command("workspaces")
    assert "should-not-exist" not in str(bot.reply_to(check))
    assert bot.slack.wait_for(f"/respond/{key}", 1, timeout=0.5) == []


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
            slack.socket_outbox.put(
                {
                    "envelope_id": "env-1",
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": {
                        "command": "/wallaroo",
                        "text": "pipelines housepricedrift",
                        "user_id": "UADMIN",
                        "user_name": "admin",
                        "team_id": "T1",
                        "channel_id": "C1",
                        "response_url": f"{slack_url}/respond/{key}",
                        "trigger_id": "1.2.3",
                        "api_app_id": "A1",
                    },
                }
            )
            (ack,) = slack.wait_for("/socket#ack", 1)
            assert ack.body["envelope_id"] == "env-1"
            (reply,) = slack.wait_for(f"/respond/{key}", 1)
            assert "housepricepipe" in json.dumps(reply.body)
        finally:
            process.terminate()
            _, stderr = process.communicate(timeout=20)
        assert "Traceback" not in stderr, stderr

"""The edge of /slack/events over real HTTP (the bot's app served on loopback, its Slack a
fake): bodies over the size limit refused before they are read, replayed and retried requests
not run twice, other teams and apps refused, malformed input answered with a 4xx or a clear
reply (and audited where a signed user acted), never a 500."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlmodel import select

from handlers.render.approval_messages import (
    APPROVE_ACTION,
    REJECT_REASON_BLOCK,
    REJECT_REASON_INPUT,
    REJECT_REASON_VIEW,
)
from storage.approvals import ApprovalRequest
from storage.audit import AuditEntry, Outcome, recent_entries
from storage.database import make_engine, session_factory
from storage.migrate import upgrade_database
from storage.seen_requests import claim_request
from storage.utc import utc_now
from tests.helpers.emulators import Emulator
from tests.helpers.slack_bot import SIGNING_SECRET, Bot, demo_emulator, running_bot

ROLES = {"chatops_admins": "UADMIN,UAPP1"}
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def emulator(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    return demo_emulator(start_module_emulator)


@pytest.fixture
def bot(emulator: Emulator, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(emulator, tmp_path, **ROLES) as started:
        yield started


def signed_headers(body: str, content_type: str, timestamp: str | None = None) -> dict:
    timestamp = timestamp or str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }


def command_body(bot: Bot, text: str, key: str, **fields: str) -> str:
    form = {
        "command": "/wallaroo",
        "text": text,
        "user_id": "UADMIN",
        "user_name": "uadmin",
        "team_id": "T1",
        "channel_id": "C1",
        "response_url": f"{bot.slack_url}/respond/{key}",
        "trigger_id": f"trigger-{key}",
        "api_app_id": "A1",
    }
    return urlencode(form | fields)


def audit_rows(bot: Bot, n: int = 5) -> list[AuditEntry]:
    async def read() -> list[AuditEntry]:
        async with bot.services.sessions() as session:
            return await recent_entries(session, n)

    return bot.run(read)


# --- size -------------------------------------------------------------------------------


def open_post(bot: Bot, headers: str) -> socket.socket:
    address = urlsplit(bot.url)
    sock = socket.create_connection((address.hostname, address.port), timeout=10)
    sock.sendall(
        f"POST /slack/events HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{headers}\r\n".encode()
    )
    return sock


def status_of(sock: socket.socket) -> int:
    answer = sock.recv(65536).decode("latin-1")
    return int(answer.split(" ", 2)[1])


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def test_a_declared_200_mb_body_is_refused_with_413_before_a_byte_of_it_is_sent(
    bot: Bot,
) -> None:
    with open_post(bot, f"Content-Length: {200 * MiB}\r\n") as sock:
        # Not one byte of the body has gone out: the answer can only come from the header.
        assert status_of(sock) == 413


def test_a_chunked_200_mb_body_is_refused_after_the_limit_without_memory_growing(
    bot: Bot,
) -> None:
    before = rss_bytes()
    sent = 0
    with open_post(bot, "Transfer-Encoding: chunked\r\n") as sock:
        chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"a" * 64 * 1024)

        def send_until_refused() -> None:
            nonlocal sent
            try:
                while sent < 200 * MiB:
                    sock.sendall(chunk)
                    sent += len(chunk)
            except OSError:
                pass  # the server answered and closed: the rest is never read

        sender = threading.Thread(target=send_until_refused)
        sender.start()
        assert status_of(sock) == 413
        sock.shutdown(socket.SHUT_RDWR)
        sender.join(timeout=30)
    assert not sender.is_alive()
    assert sent < 50 * MiB  # it stopped at the limit plus what the sockets buffer
    assert rss_bytes() - before < 50 * MiB


def test_a_body_under_the_limit_still_reaches_the_bot(bot: Bot) -> None:
    key = uuid.uuid4().hex
    body = command_body(bot, "workspaces " + "x" * 500_000, key)
    headers = signed_headers(body, "application/x-www-form-urlencoded")
    response = bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 200
    assert bot.reply_to(key)


# --- replays ----------------------------------------------------------------------------


def test_the_same_signed_deploy_sent_three_times_makes_one_approval_request(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    pipeline = f"p{uuid.uuid4().hex[:10]}"
    emulator.new_demo_pipeline(pipeline)
    with running_bot(emulator, tmp_path, database_url=database_url, **ROLES) as bot:
        key = uuid.uuid4().hex
        body = command_body(bot, f"deploy housepricedrift {pipeline}", key)
        headers = signed_headers(body, "application/x-www-form-urlencoded")
        answers = [
            bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
            for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert "approval" in json.dumps(bot.reply_to(key)).lower()

        async def requests_for_pipeline() -> list[ApprovalRequest]:
            async with bot.services.sessions() as session:
                found = await session.exec(
                    select(ApprovalRequest).where(ApprovalRequest.pipeline_name == pipeline)
                )
                return list(found)

        assert len(bot.run(requests_for_pipeline)) == 1
        assert len(bot.slack.wait_for(f"/respond/{key}", 1)) == 1


def test_a_slack_retry_of_a_handled_event_is_acknowledged_and_not_run_again(bot: Bot) -> None:
    def home_opened(user: str, event_id: str) -> str:
        return json.dumps(
            {
                "type": "event_callback",
                "team_id": "T1",
                "api_app_id": "A1",
                "event": {"type": "app_home_opened", "user": user, "tab": "home"},
                "event_id": event_id,
                "event_time": int(time.time()),
            }
        )

    first = home_opened("UONE", "Ev1")
    url = f"{bot.url}/slack/events"
    assert bot.http.post(url, content=first, headers=signed_headers(first, "application/json"))
    assert len(bot.slack.wait_for("/api/views.publish", 1)) == 1
    retry_headers = signed_headers(first, "application/json") | {
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    retried = bot.http.post(url, content=first, headers=retry_headers)
    assert retried.status_code == 200
    # A later event is handled: had the retry run, its publish would have come before this.
    second = home_opened("UTWO", "Ev2")
    bot.http.post(url, content=second, headers=signed_headers(second, "application/json"))
    published = bot.slack.wait_for("/api/views.publish", 2)
    bot.drain()
    assert [call.body["user_id"] for call in bot.slack.calls if "views.publish" in call.path] == [
        c.body["user_id"] for c in published
    ]
    assert [c.body["user_id"] for c in published] == ["UONE", "UTWO"]


async def test_a_seen_request_is_refused_in_its_window_and_expires_after(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'seen.db'}")
    try:
        await upgrade_database(engine)
        sessions = session_factory(engine)
        now = utc_now()
        async with sessions() as session:
            assert await claim_request(session, "trigger:1", now)
            assert not await claim_request(session, "trigger:1", now + timedelta(minutes=5))
            assert await claim_request(session, "trigger:1", now + timedelta(minutes=12))
    finally:
        await engine.dispose()


# --- teams and apps ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [{"slack_team_ids": "T8,T9"}, {"slack_app_id": "A9"}],
    ids=["other-team", "other-app"],
)
def test_a_signed_request_from_another_team_or_app_gets_401(
    emulator: Emulator, tmp_path: Path, settings: dict
) -> None:
    with running_bot(emulator, tmp_path, **ROLES, **settings) as bot:
        response, _ = bot.command("workspaces")
        assert response.status_code == 401
        clicked, _ = bot.click(APPROVE_ACTION, "1", "UAPP1")
        assert clicked.status_code == 401
        event = bot.event({"type": "app_home_opened", "user": "UONE", "tab": "home"})
        assert event.status_code == 401
        bot.drain()
        assert bot.slack.calls == [] and audit_rows(bot) == []


def test_the_configured_team_and_app_are_served(emulator: Emulator, tmp_path: Path) -> None:
    with running_bot(emulator, tmp_path, slack_team_ids="T0, T1", slack_app_id="A1") as bot:
        response, key = bot.command("workspaces")
        assert response.status_code == 200
        assert "housepricedrift" in json.dumps(bot.reply_to(key))


def test_without_team_and_app_settings_the_start_says_any_is_accepted(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    guard_logs = caplog.at_level(logging.WARNING, logger="bot.adapters.slack_guard")
    with guard_logs, running_bot(emulator, tmp_path) as bot:
        bot.command("workspaces")
        bot.command("workspaces")
    said = [r.getMessage() for r in caplog.records if r.name == "bot.adapters.slack_guard"]
    assert said == [
        "SLACK_TEAM_IDS is not set: signed requests from any team are accepted",
        "SLACK_APP_ID is not set: signed requests for any app are accepted",
    ]


# --- malformed input --------------------------------------------------------------------


def test_a_timestamp_that_is_no_number_gets_401(bot: Bot) -> None:
    body = command_body(bot, "workspaces", uuid.uuid4().hex)
    headers = signed_headers(body, "application/x-www-form-urlencoded", timestamp="abc")
    response = bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 401 and "Traceback" not in response.text


def test_a_payload_that_is_not_json_gets_400(bot: Bot) -> None:
    body = urlencode({"payload": "{not json"})
    headers = signed_headers(body, "application/x-www-form-urlencoded")
    response = bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"error": "the payload field is not JSON"}


def test_a_form_body_sent_as_json_gets_400(bot: Bot) -> None:
    body = command_body(bot, "workspaces", uuid.uuid4().hex)
    headers = signed_headers(body, "application/json")
    response = bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"error": "the JSON body is not JSON"}
    assert bot.slack.calls == []


def test_a_button_value_that_is_no_number_is_answered_and_audited(bot: Bot) -> None:
    response, key = bot.click(APPROVE_ACTION, "abc", "UAPP1")
    assert response.status_code == 200
    reply = json.dumps(bot.reply_to(key))
    assert "This button names no request the bot knows." in reply
    assert "went wrong" not in reply
    (row,) = audit_rows(bot)
    assert (row.slack_user_id, row.outcome, row.area) == ("UAPP1", Outcome.INVALID, "approvals")


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [("abc", "This dialog names no approval request."), ("999", "no approval request #999")],
)
def test_a_reject_dialog_naming_no_request_is_answered_in_the_dialog_and_audited(
    bot: Bot, metadata: str, problem: str
) -> None:
    submission = {
        "type": "view_submission",
        "user": {"id": "UAPP1", "username": "uapp1", "team_id": "T1"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "trigger_id": f"trigger-{uuid.uuid4().hex}",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": REJECT_REASON_VIEW,
            "private_metadata": metadata,
            "state": {"values": {REJECT_REASON_BLOCK: {REJECT_REASON_INPUT: {"value": "no"}}}},
        },
    }
    response = bot.interact(submission)
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert problem in answer["errors"][REJECT_REASON_BLOCK]
    (row,) = audit_rows(bot)
    assert (row.slack_user_id, row.outcome, row.action) == ("UAPP1", Outcome.INVALID, "reject")


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"type": "view_submission", "view": {"id": "V1"}}, "the payload's view has no type"),
        ({"view": {"type": "modal"}}, "the payload has no type"),
    ],
)
def test_an_interaction_missing_what_bolt_reads_gets_400(
    bot: Bot, payload: dict, error: str
) -> None:
    # Bolt reads a submission's `view["type"]` unchecked; such bodies now get the reason.
    body = urlencode({"payload": json.dumps({"team": {"id": "T1"}, **payload})})
    headers = signed_headers(body, "application/x-www-form-urlencoded")
    response = bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"error": error}

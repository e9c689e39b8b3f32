"""Approvals on a bad day: a deploy or undeploy answered with an error that proves nothing (a
gateway 504 whether or not Wallaroo took the call) is reconciled from Wallaroo's state and never
sent twice; a 4xx fails the request with Wallaroo's message; a second pending request for the
same change is refused; an outcome whose thread does not exist still reaches the requester.
Signed requests into the real /slack/events, the emulator's fault injection over HTTP."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from handlers.render.approval_messages import APPROVE_ACTION
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.net import wait_until
from tests.helpers.postgres import create_database
from tests.helpers.slack_bot import Bot, running_bot

DEPLOY_CALLS = "/v1/api/pipelines/deploy"
UNDEPLOY_CALLS = "/v1/api/pipelines/undeploy"
STARTUP_SECONDS = 60.0
ROLES = {"chatops_admins": "UADMIN,UAPP1,UAPP2"}
GRACE_SECONDS = 2.0  # how long a call of unknown fate is looked for (the default is 30 s)

api_mode = both_api_modes


@pytest.fixture(scope="module")
def drift(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_module_emulator(
        api=api_mode, seed_demo=True, deployment_startup_seconds=STARTUP_SECONDS
    )


@pytest.fixture
def pipeline(drift: Emulator) -> str:
    name = f"p{uuid.uuid4().hex[:10]}"
    drift.new_demo_pipeline(name)
    return name


@pytest.fixture
def bot(drift: Emulator, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(drift, tmp_path, chatops_call_grace_seconds=GRACE_SECONDS, **ROLES) as started:
        yield started


@pytest.fixture
def fault(drift: Emulator) -> Iterator[Callable[..., None]]:
    def add(path: str, status: int, after_effect: bool) -> None:
        body = {"path_prefix": path, "error_rate": 1.0, "status": status}
        drift.control("faults", {**body, "after_effect": after_effect})

    yield add
    drift.http.delete(f"{drift.url}/emulator/faults")


def ask(bot: Bot, text: str, user: str = "UADMIN") -> str:
    response, key = bot.command(text, user)
    assert response.status_code == 200
    return json.dumps(bot.reply_to(key))


def request_id_in(reply: str) -> str:
    found = re.search(r"request \*#(\d+)\*", reply)
    assert found, reply
    return found.group(1)


def approve(bot: Bot, request_id: str) -> None:
    response, key = bot.click(APPROVE_ACTION, request_id, "UAPP1")
    assert response.status_code == 200
    assert "Approved request" in json.dumps(bot.reply_to(key))


def outcome(slack: FakeSlack, count: int = 1, timeout: float = 30.0) -> str:
    """The `count`th outcome in a request's thread, once it is there."""
    deadline = time.monotonic() + timeout
    while True:
        found = [b for b in slack.api_calls("chat.postMessage") if b.get("thread_ts")]
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) >= count, "no outcome was posted"
            return json.dumps(found[count - 1])
        time.sleep(0.05)


def start_up(drift: Emulator, pipeline: str) -> None:
    """Once the deployment exists (the rollout runs after the click's answer), let it start."""
    wait_until(lambda: drift.live_deployment(pipeline) is not None)
    drift.control("clock", {"advance_seconds": STARTUP_SECONDS + 1})


def deploy_and_finish(drift: Emulator, bot: Bot, pipeline: str) -> None:
    approve(bot, request_id_in(ask(bot, f"deploy housepricedrift {pipeline}")))
    start_up(drift, pipeline)
    assert "is deployed" in outcome(bot.slack)


def test_a_504_after_the_deploy_took_effect_is_followed_to_running_and_watched(
    drift: Emulator, bot: Bot, pipeline: str, fault: Callable[..., None]
) -> None:
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
    deploys = drift.calls_to(DEPLOY_CALLS)
    fault(DEPLOY_CALLS, 504, after_effect=True)
    approve(bot, request_id)
    start_up(drift, pipeline)
    text = outcome(bot.slack)
    assert "is deployed" in text and "refused" not in text
    assert drift.live_deployment(pipeline) is not None
    bot.drain()
    assert drift.calls_to(DEPLOY_CALLS) == deploys + 1  # reconciled, never resent
    assert "is already watched" in ask(bot, f"watch housepricedrift {pipeline}")
    audit = ask(bot, "audit 20")
    assert "deploy-unknown-fate" in audit or "unknown-fate" in audit


def test_a_504_without_effect_fails_saying_nothing_was_deployed(
    drift: Emulator, bot: Bot, pipeline: str, fault: Callable[..., None]
) -> None:
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
    deploys = drift.calls_to(DEPLOY_CALLS)
    fault(DEPLOY_CALLS, 504, after_effect=False)
    approve(bot, request_id)
    text = outcome(bot.slack)
    assert "was not deployed" in text and "nothing was deployed" in text
    assert "not sent again" in text and "HTTP 504" in text
    bot.drain()
    assert drift.calls_to(DEPLOY_CALLS) == deploys + 1
    assert drift.live_deployment(pipeline) is None


def test_a_504_after_the_undeploy_took_effect_ends_undeployed(
    drift: Emulator, bot: Bot, pipeline: str, fault: Callable[..., None]
) -> None:
    deploy_and_finish(drift, bot, pipeline)
    request_id = request_id_in(ask(bot, f"undeploy housepricedrift {pipeline}"))
    undeploys = drift.calls_to(UNDEPLOY_CALLS)
    fault(UNDEPLOY_CALLS, 502, after_effect=True)
    approve(bot, request_id)
    text = outcome(bot.slack, 2)
    assert "undeploy succeeded" in text or "is undeployed" in text, text
    bot.drain()
    assert drift.calls_to(UNDEPLOY_CALLS) == undeploys + 1
    assert drift.live_deployment(pipeline) is None


def test_a_400_fails_the_deploy_with_wallaroos_message(
    drift: Emulator, bot: Bot, pipeline: str, fault: Callable[..., None]
) -> None:
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
    deploys = drift.calls_to(DEPLOY_CALLS)
    fault(DEPLOY_CALLS, 400, after_effect=False)
    approve(bot, request_id)
    text = outcome(bot.slack)
    assert "Wallaroo refused the deploy" in text and "injected fault: HTTP 400" in text
    bot.drain()
    assert drift.calls_to(DEPLOY_CALLS) == deploys + 1


def test_a_second_pending_request_for_the_same_change_is_refused(
    drift: Emulator, bot: Bot, pipeline: str
) -> None:
    first = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
    posted = len(bot.slack.api_calls("chat.postMessage"))
    again = ask(bot, f"deploy housepricedrift {pipeline} once more", "UAPP2")
    assert f"Request *#{first}* to deploy" in again and "already waiting" in again
    assert "/wallaroo approvals" in again and "posted in" in again
    assert len(bot.slack.api_calls("chat.postMessage")) == posted  # nothing new to approve
    approvals = ask(bot, "approvals", "UAPP1")
    assert f"#{first}" in approvals and f"#{int(first) + 1}" not in approvals
    assert "refused" in ask(bot, "audit 5")


def test_the_outcome_reaches_the_requester_when_the_request_could_not_be_posted(
    drift: Emulator, bot: Bot, pipeline: str
) -> None:
    bot.slack.failing["chat.postMessage"] = "not_in_channel"
    reply = ask(bot, f"deploy housepricedrift {pipeline}", "UAPP2")
    assert "I could not post it" in reply
    approve(bot, request_id_in(reply))
    start_up(drift, pipeline)
    (told,) = bot.slack.wait_for("/api/chat.postEphemeral", 1, timeout=30)
    assert told.body["user"] == "UAPP2" and "is deployed" in json.dumps(told.body)


def test_a_database_cut_mid_rollout_is_carried_on_from_the_database(
    drift: Emulator,
    pipeline: str,
    tmp_path: Path,
    postgres_server_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """PostgreSQL going away while a deploy is followed (a restart, a failover) does not end
    the rollout: it carries on from what the database recorded once it is back (bench/soak.py
    found requests left `following` for good)."""
    database_url = create_database(postgres_server_url)
    name = make_url(database_url).database
    admin_dsn = make_url(postgres_server_url).set(drivername="postgresql", database="postgres")

    def allow_connections(allowed: bool) -> None:
        dsn = admin_dsn.render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {allowed}')
            if not allowed:  # and cut the bot's connections, as a restart does
                connection.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )

    with running_bot(drift, tmp_path, database_url=database_url, **ROLES) as bot:
        deploys = drift.calls_to(DEPLOY_CALLS)
        approve(bot, request_id_in(ask(bot, f"deploy housepricedrift {pipeline}")))
        wait_until(lambda: drift.live_deployment(pipeline) is not None)  # following it now
        with caplog.at_level(logging.WARNING, logger="handlers.approvals.rollout"):
            allow_connections(False)
            try:
                wait_until(lambda: "the database failed mid-rollout" in caplog.text, 20)
            finally:
                allow_connections(True)
        drift.control("clock", {"advance_seconds": STARTUP_SECONDS + 1})
        assert "is deployed" in outcome(bot.slack, timeout=60)
        bot.drain()
    assert drift.calls_to(DEPLOY_CALLS) == deploys + 1

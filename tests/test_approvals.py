"""Deploy and undeploy behind approval buttons, end to end: signed slash commands and
block_actions into the real /slack/events, the emulator over HTTP, a fake Slack recording
what the bot posted and edited."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from bot.chat.console import ConsoleChat
from bot.services import open_services
from handlers.approvals.requests import Verdict, decide
from handlers.approvals.rollout import carry_out
from handlers.context import Actor, Services
from handlers.render.approval_messages import (
    APPROVE_ACTION,
    REJECT_ACTION,
    REJECT_REASON_BLOCK,
    REJECT_REASON_INPUT,
    REJECT_REASON_VIEW,
)
from storage.approvals import ApprovalRequest, ApprovalState, create_request, get_request
from storage.roles import Role
from storage.utc import utc_now
from tests.helpers.approval_flows import (
    APPROVERS,
    ROLES,
    STARTUP_SECONDS,
    ask,
    click,
    request_id_in,
    thread_replies,
)
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import Bot, running_bot

DEPLOY_CALLS = "/v1/api/pipelines/deploy"
UNDEPLOY_CALLS = "/v1/api/pipelines/undeploy"

# Every test here runs against today's Wallaroo and again against the 2022 tutorial's.
api_mode = both_api_modes


@pytest.fixture(scope="module")
def drift(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """The drift demo, with deployments that stay Starting until the test moves the clock."""
    return start_module_emulator(
        api=api_mode, seed_demo=True, deployment_startup_seconds=STARTUP_SECONDS
    )


@pytest.fixture
def pipeline(drift: Emulator) -> str:
    """A new pipeline with the demo's model, so tests do not share deployments."""
    name = f"p{uuid.uuid4().hex[:10]}"
    drift.new_demo_pipeline(name)
    return name


@pytest.fixture
def bot(drift: Emulator, tmp_path: Path, database_url: str) -> Iterator[Bot]:
    """The bot on SQLite, then (the same test again) on PostgreSQL."""
    with running_bot(drift, tmp_path, database_url=database_url, **ROLES) as started:
        yield started


def deployment_of(drift: Emulator, name: str) -> dict | None:
    return drift.live_deployment(name)


def test_deploy_then_undeploy_approved_by_a_second_user(
    drift: Emulator, bot: Bot, pipeline: str
) -> None:
    ask(bot, "access grant <@UOPS|ops> operator")
    deploys = drift.calls_to(DEPLOY_CALLS)

    reply = ask(bot, f"deploy housepricedrift {pipeline} new model, tested", "UOPS")
    request_id = request_id_in(reply)
    (posted,) = bot.slack.api_calls("chat.postMessage")
    assert posted["channel"] == "C1"
    blocks = json.dumps(posted["blocks"])
    assert APPROVE_ACTION in blocks and REJECT_ACTION in blocks and "confirm" in blocks
    assert "new model, tested" in blocks and "<@UOPS>" in blocks

    assert "Approved request" in click(bot, APPROVE_ACTION, request_id, "UAPP1")
    # Starting until the emulator's clock passes the start-up time; the message says so.
    wait_until(lambda: any("Starting" in str(u) for u in bot.slack.api_calls("chat.update")))
    drift.control("clock", {"advance_seconds": STARTUP_SECONDS + 1})
    (outcome,) = thread_replies(bot.slack)
    assert outcome["thread_ts"] == bot.slack.posted_ts[0]  # in the request's thread
    assert "is deployed" in json.dumps(outcome)
    last_edit = json.dumps(bot.slack.api_calls("chat.update")[-1])
    assert "<@UAPP1>" in last_edit and APPROVE_ACTION not in last_edit
    assert drift.calls_to(DEPLOY_CALLS) == deploys + 1
    deployment = deployment_of(drift, pipeline)
    assert deployment is not None

    undeploys = drift.calls_to(UNDEPLOY_CALLS)
    reply = ask(bot, f"undeploy housepricedrift {pipeline} done with it", "UOPS")
    assert f"deployment {deployment['id']}" in reply
    click(bot, APPROVE_ACTION, request_id_in(reply), "UAPP2")
    wait_until(lambda: len(thread_replies(bot.slack, 2)) == 2)
    undeployed = json.dumps(thread_replies(bot.slack, 2)[-1])
    # The approved deploy started a watch; the approved undeploy ends it, and says so.
    assert "is undeployed" in undeployed and "Stopped watching it" in undeployed
    assert "Stopped watching" not in json.dumps(outcome)
    assert deployment_of(drift, pipeline) is None
    assert drift.calls_to(UNDEPLOY_CALLS) == undeploys + 1

    audit = ask(bot, "audit 40")
    for step in ("deploy call", "deploy accepted", "deploy succeeded", "undeploy succeeded"):
        assert f"request {request_id} {step}" in audit or step.startswith("undeploy"), step
    assert "undeploy succeeded" in audit
    assert f"[button] approve {request_id}" in audit


def state_of(bot: Bot, request_id: str) -> str:
    """The request's message as the channel shows it now (its latest edit)."""
    updates = [u for u in bot.slack.api_calls("chat.update") if f"#{request_id}" in json.dumps(u)]
    return (
        json.dumps(updates[-1]) if updates else json.dumps(bot.slack.api_calls("chat.postMessage"))
    )


def test_self_approval_is_refused_and_audited(drift: Emulator, bot: Bot, pipeline: str) -> None:
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}", "UAPP1"))
    refusal = click(bot, APPROVE_ACTION, request_id, "UAPP1")
    assert "someone else must decide it (four-eyes)" in refusal
    assert '"response_type": "ephemeral"' in refusal and '"replace_original": false' in refusal
    assert "someone else must decide it" in ask(bot, f"approve {request_id}", "UAPP1")
    assert f"#{request_id}" in ask(bot, "approvals", "UAPP2")  # still pending for others
    audit = ask(bot, "audit 10")
    assert f"[button] approve {request_id}" in audit and "refused" in audit


def test_viewer_and_operator_clicks_are_refused(drift: Emulator, bot: Bot, pipeline: str) -> None:
    ask(bot, "access grant <@UOPS|ops> operator")
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
    deploys = drift.calls_to(DEPLOY_CALLS)
    for user, role in (("UVIEWER", "viewer"), ("UOPS", "operator")):
        refusal = click(bot, APPROVE_ACTION, request_id, user)
        assert f"needs the *approver* role; you are *{role}*" in refusal
        refusal = click(bot, REJECT_ACTION, request_id, user)
        assert f"you are *{role}*" in refusal
    assert bot.slack.api_calls("views.open") == []  # no reason dialog for those who may not
    assert drift.calls_to(DEPLOY_CALLS) == deploys
    assert f"#{request_id}" in ask(bot, "approvals", "UAPP3")


def test_expired_request_cannot_be_approved(drift: Emulator, tmp_path: Path, pipeline: str) -> None:
    with running_bot(drift, tmp_path, chatops_approval_ttl_seconds=60, **ROLES) as bot:
        assert bot.clock is not None
        request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
        bot.clock.advance(61)  # on the bot's clock: the request's minute is up
        refusal = click(bot, APPROVE_ACTION, request_id, "UAPP1")
        assert f"Request #{request_id} expired" in refusal
        assert "Expired before anyone decided" in state_of(bot, request_id)
        assert "already expired" in click(bot, APPROVE_ACTION, request_id, "UAPP2")
        assert "Nothing is waiting for you" in ask(bot, "approvals", "UAPP2")


def test_stale_request_is_refused_when_the_pipeline_changed(
    drift: Emulator, bot: Bot, pipeline: str
) -> None:
    assert drift.demo is not None
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
    # Someone makes a new version of the pipeline after the request was made.
    drift.admin().ok(
        "pipelines/create",
        {"pipeline_id": pipeline, "workspace_id": drift.demo["workspace_id"], "definition": {}},
    )
    deploys = drift.calls_to(DEPLOY_CALLS)
    refusal = click(bot, APPROVE_ACTION, request_id, "UAPP1")
    assert f"Request #{request_id} is stale" in refusal and "version" in refusal
    assert "the pipeline changed since the request" in state_of(bot, request_id)
    assert "already stale" in click(bot, APPROVE_ACTION, request_id, "UAPP2")
    assert drift.calls_to(DEPLOY_CALLS) == deploys


def test_twenty_concurrent_approve_clicks_make_one_deploy_call(
    drift: Emulator, bot: Bot, pipeline: str
) -> None:
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
    deploys = drift.calls_to(DEPLOY_CALLS)
    with ThreadPoolExecutor(max_workers=len(APPROVERS)) as pool:
        replies = list(
            pool.map(lambda user: click(bot, APPROVE_ACTION, request_id, user), APPROVERS)
        )
    assert sum("Approved request" in r for r in replies) == 1
    assert sum("was already approved" in r for r in replies) == len(APPROVERS) - 1
    wait_until(lambda: drift.calls_to(DEPLOY_CALLS) > deploys)
    # Every click has been answered, so any rollout they started is running: let the deploy
    # finish, and wait for all of them to end. No call can come after that.
    drift.control("clock", {"advance_seconds": STARTUP_SECONDS + 1})
    (outcome,) = thread_replies(bot.slack)
    assert "is deployed" in json.dumps(outcome)
    bot.drain()
    assert drift.calls_to(DEPLOY_CALLS) == deploys + 1


def test_wallaroo_error_during_deploy_ends_failed_with_a_clear_message(
    drift: Emulator, bot: Bot, pipeline: str
) -> None:
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
    # A 4xx proves the call was refused (a 5xx would not: tests/test_approvals_faults.py).
    drift.control("faults", {"path_prefix": DEPLOY_CALLS, "error_rate": 1.0, "status": 400})
    try:
        deploys = drift.calls_to(DEPLOY_CALLS)
        click(bot, APPROVE_ACTION, request_id, "UAPP1")
        (outcome,) = thread_replies(bot.slack)
    finally:
        drift.http.delete(f"{drift.url}/emulator/faults")
    text = json.dumps(outcome)
    assert "was not deployed" in text and "Wallaroo refused the deploy" in text
    assert "injected fault: HTTP 400" in text
    assert "it failed" in state_of(bot, request_id)
    assert drift.calls_to(DEPLOY_CALLS) == deploys + 1  # a write is never retried blindly
    assert deployment_of(drift, pipeline) is None


def test_reject_asks_for_a_reason_and_closes_the_request(
    drift: Emulator, bot: Bot, pipeline: str
) -> None:
    request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
    response, _ = bot.click(REJECT_ACTION, request_id, "UAPP1")
    assert response.status_code == 200
    (opened,) = bot.slack.wait_for("/api/views.open", 1)
    view = (
        json.loads(opened.body["view"])
        if isinstance(opened.body["view"], str)
        else opened.body["view"]
    )
    assert view["callback_id"] == REJECT_REASON_VIEW and view["private_metadata"] == request_id
    submission = {
        "type": "view_submission",
        "user": {"id": "UAPP1", "username": "uapp1", "team_id": "T1"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "view": {
            **view,
            "id": "V1",
            "state": {
                "values": {REJECT_REASON_BLOCK: {REJECT_REASON_INPUT: {"value": "not on a Friday"}}}
            },
        },
    }
    assert bot.interact(submission).status_code == 200
    (told,) = bot.slack.wait_for("/api/chat.postEphemeral", 1)
    assert "Rejected request" in json.dumps(told.body) and told.body["user"] == "UAPP1"
    assert "Rejected by" in state_of(bot, request_id)
    assert "not on a Friday" in state_of(bot, request_id)
    assert "already rejected" in click(bot, APPROVE_ACTION, request_id, "UAPP2")
    assert deployment_of(drift, pipeline) is None


def test_workspace_aware_permissions_need_membership_of_the_workspace(
    drift: Emulator, tmp_path: Path, pipeline: str
) -> None:
    assert drift.demo is not None
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    slack = FakeSlack(emails={"UAPP1": email})
    aware = {"chatops_workspace_aware_permissions": True, **ROLES}
    with running_bot(drift, tmp_path, slack=slack, **aware) as bot:
        request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
        refusal = click(bot, APPROVE_ACTION, request_id, "UAPP1")
        assert "not an owner or collaborator" in refusal and email in refusal
        assert "cannot see your email" in click(bot, APPROVE_ACTION, request_id, "UAPP2")
        admin = drift.admin()
        admin.ok("users/invite", {"email": email})
        admin.ok(
            "workspaces/add_user",
            {
                "workspace_id": drift.demo["workspace_id"],
                "email": email,
                "user_type": "COLLABORATOR",
            },
        )
        assert "Approved request" in click(bot, APPROVE_ACTION, request_id, "UAPP1")


def test_restart_between_request_and_click(
    drift: Emulator, tmp_path: Path, pipeline: str, database_url: str
) -> None:
    with running_bot(drift, tmp_path, database_url=database_url, **ROLES) as before:
        request_id = request_id_in(ask(before, f"deploy housepricedrift {pipeline}"))
    deploys = drift.calls_to(DEPLOY_CALLS)
    with running_bot(drift, tmp_path, database_url=database_url, **ROLES) as after:
        assert "Approved request" in click(after, APPROVE_ACTION, request_id, "UAPP1")
        wait_until(lambda: drift.calls_to(DEPLOY_CALLS) > deploys)
        drift.control("clock", {"advance_seconds": STARTUP_SECONDS + 1})
        (outcome,) = thread_replies(after.slack)
        assert "is deployed" in json.dumps(outcome)
    assert drift.calls_to(DEPLOY_CALLS) == deploys + 1


def test_restart_between_deploy_call_and_running_follows_without_resending(
    drift: Emulator, tmp_path: Path, pipeline: str, database_url: str
) -> None:
    deploys = drift.calls_to(DEPLOY_CALLS)
    with running_bot(drift, tmp_path, database_url=database_url, **ROLES) as before:
        request_id = request_id_in(ask(before, f"deploy housepricedrift {pipeline}"))
        click(before, APPROVE_ACTION, request_id, "UAPP1")
        wait_until(lambda: "Starting" in state_of(before, request_id))
    # The bot stopped while the deployment was still Starting; it is Running by the restart.
    drift.control("clock", {"advance_seconds": STARTUP_SECONDS + 1})
    with running_bot(drift, tmp_path, database_url=database_url, **ROLES) as after:
        (outcome,) = thread_replies(after.slack)
        assert "is deployed" in json.dumps(outcome)
        assert outcome["thread_ts"] == before.slack.posted_ts[0]  # the original thread
        assert "Done" in state_of(after, request_id)
    assert drift.calls_to(DEPLOY_CALLS) == deploys + 1


def test_console_flow_with_two_users(drift: Emulator, tmp_path: Path, pipeline: str) -> None:
    env = {
        **os.environ,
        "WALLAROO_API_URL": drift.api_url,
        "WALLAROO_TOKEN_URL": drift.token_url,
        "WALLAROO_CLIENT_SECRET": drift.config.client_secret,
        "DATABASE_URL": f"sqlite:///{tmp_path}/console.db",
        "CHATOPS_ADMINS": "UALICE,UBOB",
        "CHATOPS_DEPLOY_POLL_SECONDS": "0.05",
    }
    env = {k: v for k, v in env.items() if not k.startswith("SLACK_")}

    def console(user: str, commands: str, then: Callable[[], object] | None = None) -> str:
        """Run `wallaroo-chatops console --as USER` on piped commands; `then` runs once the
        approval is in (the deployment starts on the emulator's clock, moved by the test)."""
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "console", "--as", user],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            cwd=tmp_path,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(commands)
        process.stdin.close()
        lines = []
        for line in process.stdout:
            lines.append(line)
            if then is not None and "Approved request" in line:
                then()
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
        return "".join(lines)

    asked = console("UALICE", f"deploy housepricedrift {pipeline} try it\napprove 1\n")
    assert "Approval request #1 created" in asked and "[1 Approve]  [2 Reject]" in asked
    assert "someone else must decide it" in asked

    def running() -> None:
        wait_until(lambda: drift.calls_to(DEPLOY_CALLS) > deploys)
        drift.control("clock", {"advance_seconds": STARTUP_SECONDS + 1})

    deploys = drift.calls_to(DEPLOY_CALLS)
    approved = console("UBOB", "approvals\napprove 1\n", then=running)
    assert "#1 Deploy pipeline" in approved
    assert "Approved request #1" in approved
    assert f"{pipeline} is deployed" in approved


async def calling_request(services: Services, drift: Emulator, pipeline: str) -> ApprovalRequest:
    """A request as a process leaves it when it dies mid-call: claimed, call fate unknown."""
    assert drift.demo is not None
    workspace_id = drift.demo["workspace_id"]
    listing = next(
        p
        for p in await services.wallaroo.list_pipelines(workspace_id)
        if p.pipeline.name == pipeline
    )
    version = await services.wallaroo.latest_pipeline_version(workspace_id, listing)
    assert version is not None
    now = utc_now()
    request = ApprovalRequest(
        action="deploy",
        workspace_id=drift.demo["workspace_id"],
        workspace_name="housepricedrift",
        pipeline_id=listing.pipeline.id,
        pipeline_name=pipeline,
        pipeline_version=version.version,
        pipeline_version_id=version.id,  # the tutorial's pk, where the instance has one
        deploy_id=pipeline,
        requester_id="UOPS",
        channel="#console",
        expires_at=now + timedelta(hours=1),
        state=ApprovalState.CALLING,
        decided_by="UAPP1",
        call_sent_at=now - timedelta(minutes=1),  # the process died a minute ago
    )
    async with services.sessions() as session:
        request = await create_request(session, request)
        await session.commit()
        return request


async def test_a_call_of_unknown_fate_that_never_arrived_is_not_sent_again(
    drift: Emulator, tmp_path: Path, pipeline: str
) -> None:
    deploys = drift.calls_to(DEPLOY_CALLS)
    out = io.StringIO()
    chat = ConsoleChat(out)
    async with open_services(drift.bot_settings(tmp_path), chat=chat) as services:
        request = await calling_request(services, drift, pipeline)
        await carry_out(services, request.id or 0)
        async with services.sessions() as session:
            ended = await get_request(session, request.id or 0)
    assert ended is not None and ended.current_state is ApprovalState.FAILED
    assert "not sent again" in (ended.outcome or "")
    assert drift.calls_to(DEPLOY_CALLS) == deploys
    assert "was not deployed" in out.getvalue()


async def test_a_call_of_unknown_fate_that_arrived_is_followed_to_running(
    drift: Emulator, tmp_path: Path, pipeline: str
) -> None:
    out = io.StringIO()
    chat = ConsoleChat(out)
    async with open_services(drift.bot_settings(tmp_path), chat=chat) as services:
        request = await calling_request(services, drift, pipeline)
        # The call did reach Wallaroo before the process died.
        body = {"deploy_id": pipeline, "pipeline_id": request.pipeline_id}
        if request.pipeline_version_id is not None:
            body["pipeline_version_pk_id"] = request.pipeline_version_id
        else:
            body["pipeline_version"] = request.pipeline_version
        drift.admin().ok("pipelines/deploy", body)
        deploys = drift.calls_to(DEPLOY_CALLS)
        drift.control("clock", {"advance_seconds": STARTUP_SECONDS + 1})
        await carry_out(services, request.id or 0)
        async with services.sessions() as session:
            ended = await get_request(session, request.id or 0)
    assert ended is not None and ended.current_state is ApprovalState.SUCCEEDED
    assert drift.calls_to(DEPLOY_CALLS) == deploys
    assert f"{pipeline} is deployed" in out.getvalue()


@pytest.fixture(scope="module")
def flaky(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """Deployments that report Error for their first 30 s, then Starting, then Running."""
    return start_module_emulator(
        api=api_mode,
        seed_demo=True,
        deployment_startup_seconds=STARTUP_SECONDS,
        deployment_startup_error_seconds=30.0,
    )


def test_a_transient_error_during_start_up_is_not_a_failure(
    flaky: Emulator, tmp_path: Path
) -> None:
    pipeline = "housepricepipe"
    with running_bot(flaky, tmp_path, chatops_startup_error_grace_seconds=30, **ROLES) as bot:
        request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
        click(bot, APPROVE_ACTION, request_id, "UAPP1")
        wait_until(lambda: "Error" in state_of(bot, request_id))
        flaky.control("clock", {"advance_seconds": 31})
        wait_until(lambda: "Starting" in state_of(bot, request_id))
        flaky.control("clock", {"advance_seconds": STARTUP_SECONDS})
        (outcome,) = thread_replies(bot.slack)
        assert "is deployed" in json.dumps(outcome)


def test_an_error_that_persists_past_the_grace_time_fails_the_deploy(
    flaky: Emulator, tmp_path: Path
) -> None:
    pipeline = "housepricepipe"
    with running_bot(flaky, tmp_path, chatops_startup_error_grace_seconds=0.3, **ROLES) as bot:
        request_id = request_id_in(ask(bot, f"deploy housepricedrift {pipeline}"))
        click(bot, APPROVE_ACTION, request_id, "UAPP1")
        (outcome,) = thread_replies(bot.slack)
        assert "was not deployed" in json.dumps(outcome)
        assert "in Error (it did not recover)" in json.dumps(outcome)


async def test_a_request_stored_before_version_uuids_is_checked_by_its_pk(
    drift: Emulator, tmp_path: Path, pipeline: str, api_mode: str
) -> None:
    """A row made before migration 0003 knows its version only by the integer pk: the
    tutorial's instance still shows pks, so it deploys; today's shows none, so it is stale."""
    assert drift.demo is not None
    deploys = drift.calls_to(DEPLOY_CALLS)
    pk = {"seed": None, "current": 1}[api_mode]  # today's listing shows none to copy
    async with open_services(drift.bot_settings(tmp_path), chat=ConsoleChat(io.StringIO())) as s:
        listing = next(
            p
            for p in await s.wallaroo.list_pipelines(drift.demo["workspace_id"])
            if p.pipeline.name == pipeline
        )
        if pk is None:
            latest = await s.wallaroo.latest_pipeline_version(drift.demo["workspace_id"], listing)
            assert latest is not None
            pk = latest.id
        old = ApprovalRequest(
            action="deploy",
            workspace_id=drift.demo["workspace_id"],
            workspace_name="housepricedrift",
            pipeline_id=listing.pipeline.id,
            pipeline_name=pipeline,
            pipeline_version_id=pk,  # and no pipeline_version: the row predates it
            deploy_id=pipeline,
            requester_id="UOPS",
            channel="#console",
            expires_at=utc_now() + timedelta(hours=1),
        )
        async with s.sessions() as session:
            request_id = (await create_request(session, old)).id or 0
            await session.commit()
        actor = Actor("UAPP1", "approver", "T1", "#console")
        decided = await decide(s, actor, Role.ADMIN, request_id, Verdict(approve=True))
        reply = str(decided.reply.to_slack())
        if api_mode == "seed":
            assert "Approved request" in reply
            for _ in range(200):  # the rollout runs on this loop: wait without blocking it
                if drift.calls_to(DEPLOY_CALLS) > deploys:
                    break
                await asyncio.sleep(0.05)
            assert drift.calls_to(DEPLOY_CALLS) == deploys + 1
        else:
            assert "is stale" in reply and "no longer shows" in reply
            assert drift.calls_to(DEPLOY_CALLS) == deploys

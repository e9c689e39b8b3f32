"""Versions, deploys and live deployments the way each generation allows, over real HTTP:
today's (the emulator with api="current": list_pipeline_versions, deploy by version UUID, no
versions in the listing, no pipelines/copy) and the tutorial's (api="seed": the fallback to the
listing's versions and their integer pk, asked once per client)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.services import open_services
from bot.wallaroo import PipelineListing, WallarooClient
from handlers.approvals.rollout import carry_out
from handlers.commands.router import handle_command
from handlers.context import Actor, Services
from handlers.render.blocks import Reply, render_text
from storage.approvals import ApprovalRequest, ApprovalState, create_request, get_request
from storage.utc import utc_now
from tests.helpers.clients import ClientUnderTest
from tests.helpers.emulators import Emulator

VERSIONS_CALL = "/v1/api/pipelines/list_pipeline_versions"
URL_CALL = "/v1/api/admin/get_pipeline_external_url"
DEPLOY_CALL = "/v1/api/pipelines/deploy"
ASKER = Actor("UOPS", "ops", "T1", "C1")
DECIDER = Actor("ULEAD", "lead", "T1", "C1")


async def listing_of(client: WallarooClient, workspace_id: int, name: str) -> PipelineListing:
    (found,) = [p for p in await client.list_pipelines(workspace_id) if p.pipeline.name == name]
    return found


async def running(client: WallarooClient, emulator: Emulator, deploy_id: str, number: int) -> str:
    for _ in range(30):
        status = await client.get_deployment_status(deploy_id, number)
        if status.status == "Running":
            return status.status
        emulator.control("clock", {"advance_seconds": 1})
    raise AssertionError("never Running")


async def two_versions(under_test: ClientUnderTest, workspace_id: int, name: str) -> list[str]:
    first = await under_test.client.create_pipeline(workspace_id, name)
    second = await under_test.client.create_pipeline(workspace_id, name)
    return [second.pipeline_variant_version, first.pipeline_variant_version]


@pytest.fixture(scope="module")
def today(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    return start_module_emulator(api="current")


@pytest.fixture(scope="module")
def tutorial(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    return start_module_emulator(api="seed")


def admin_client(make_client: Callable[..., ClientUnderTest], emulator: Emulator):
    config = emulator.config
    return make_client(emulator, username=config.admin_email, password=config.admin_password)


async def test_today_versions_are_listed_and_a_uuid_deploy_reaches_running(
    today: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    under_test = admin_client(make_client, today)
    client = under_test.client
    workspace_id = await client.create_workspace("today-versions")
    newest_first = await two_versions(under_test, workspace_id, "todaypipe")
    listing = await listing_of(client, workspace_id, "todaypipe")
    assert not listing.lists_versions  # nothing of the seed's invented list is needed

    versions = await client.list_pipeline_versions(workspace_id, listing)
    assert [v.version for v in versions] == newest_first
    assert all(v.id is None for v in versions)  # no integer pk: deploys go by UUID
    assert await client.live_deployment(workspace_id, listing) is None

    number = await client.deploy_pipeline(
        listing.pipeline.id, None, "todaypipe", pipeline_version=versions[0].version
    )
    assert await running(client, today, "todaypipe", number) == "Running"
    live = await client.live_deployment(
        workspace_id, await listing_of(client, workspace_id, "todaypipe")
    )
    assert live is not None and (live.id, live.deploy_id) == (number, "todaypipe")
    url = await client.get_pipeline_external_url(workspace_id, "todaypipe")
    assert url.endswith(f"/infer/todaypipe-{number}/todaypipe")

    await client.undeploy_pipeline(listing.pipeline.id, number)
    after = await listing_of(client, workspace_id, "todaypipe")
    assert await client.live_deployment(workspace_id, after) is None


async def test_the_tutorial_instance_falls_back_to_the_listing_once(
    tutorial: Emulator, make_client: Callable[..., ClientUnderTest]
) -> None:
    under_test = admin_client(make_client, tutorial)
    client = under_test.client
    workspace_id = await client.create_workspace("tutorial-versions")
    newest_first = await two_versions(under_test, workspace_id, "oldpipe")
    listing = await listing_of(client, workspace_id, "oldpipe")

    versions = await client.list_pipeline_versions(workspace_id, listing)
    assert [v.version for v in versions] == newest_first
    latest = await client.latest_pipeline_version(workspace_id, listing)
    assert latest is not None and latest.id is not None  # the pk the old deploy takes
    assert under_test.attempts(VERSIONS_CALL) == 1  # the 404 is remembered

    number = await client.deploy_pipeline(listing.pipeline.id, latest.id, "oldpipe")
    assert await running(client, tutorial, "oldpipe", number) == "Running"
    live = await client.live_deployment(
        workspace_id, await listing_of(client, workspace_id, "oldpipe")
    )
    assert live is not None and (live.id, live.pipeline_version_id) == (number, latest.id)
    assert under_test.attempts(URL_CALL) == 0  # the seed's listing says it all


# --- through the bot -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_today(start_module_emulator: Callable[..., Emulator]) -> Emulator:
    return start_module_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
async def services(demo_today: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    settings = demo_today.bot_settings(tmp_path, chatops_admins="UADMIN,UOPS,ULEAD")
    async with open_services(settings) as opened:
        yield opened


async def say(services: Services, text: str, actor: Actor) -> str:
    reply = await handle_command(services, actor, text)
    assert isinstance(reply, Reply)
    return render_text(reply)


async def finished(services: Services, request_id: int) -> ApprovalRequest:
    for _ in range(200):
        async with services.sessions() as session:
            request = await get_request(session, request_id)
        assert request is not None
        if request.current_state.is_final:
            return request
        await asyncio.sleep(0.05)
    raise AssertionError(f"request {request_id} is still {request.state}")


# (command, text expected in the reply) on today's shapes: nested models, optional fields, ...
TODAY_READS = [
    ("models housepricedrift", "housepricemodel"),
    ("model housepricedrift housepricemodel", "1 version"),
    ("workspace users housepricedrift", "owner"),
    ("users", "admin@wallaroo.example"),
    ("pipelines housepricedrift", "housepricepipe"),
    ("status housepricedrift housepricepipe", "Running"),
    ("url housepricedrift housepricepipe", "/infer/housepricepipe-1/housepricepipe"),
]


@pytest.mark.parametrize(("command", "expected"), TODAY_READS)
async def test_read_commands_on_todays_shapes(
    services: Services, command: str, expected: str
) -> None:
    reply = await say(services, command, ASKER)
    assert expected in reply and "unexpected" not in reply


async def test_an_invite_never_shows_or_logs_the_password_wallaroo_made_up(
    today: Emulator,
    make_client: Callable[..., ClientUnderTest],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    under_test = admin_client(make_client, today)
    invited = await under_test.client.invite_user("newcomer@example.com")
    (answer,) = under_test.sent("/users/invite")
    password = answer.body["password"]
    assert invited.password_issued and invited.user_id == answer.body["id"]
    shown = repr(invited) + invited.model_dump_json() + caplog.text
    assert password not in shown


async def test_pipeline_copy_on_todays_wallaroo_says_what_to_do_instead(
    services: Services,
) -> None:
    reply = await say(services, "pipeline copy housepricedrift housepricepipe clone", ASKER)
    assert "has no pipeline copy" in reply and "pipeline create housepricedrift clone" in reply
    assert "Traceback" not in reply and "went wrong" not in reply


async def test_an_approved_deploy_goes_by_uuid_and_a_new_version_makes_a_request_stale(
    services: Services, demo_today: Emulator
) -> None:
    asked = await say(services, "deploy housepricedrift housepricepipe", ASKER)
    assert "Approval request #1 created" in asked
    async with services.sessions() as session:
        request = await get_request(session, 1)
    assert request is not None and request.pipeline_version_id is None
    assert request.pipeline_version is not None and request.pipeline_version[:8] in asked

    await say(services, "approve 1", DECIDER)
    done = await finished(services, 1)
    assert done.current_state is ApprovalState.SUCCEEDED, done.outcome
    assert "Running" in await say(services, "status housepricedrift housepricepipe", ASKER)

    await say(services, "deploy housepricedrift housepricepipe", ASKER)
    await say(services, "pipeline create housepricedrift housepricepipe", ASKER)
    refusal = await say(services, "approve 2", DECIDER)
    assert "Request #2 is stale" in refusal and request.pipeline_version[:8] in refusal


async def calling_request(services: Services, emulator: Emulator, version: str) -> ApprovalRequest:
    """A deploy as a process leaves it when it dies mid-call: claimed, the call's fate unknown."""
    assert emulator.demo is not None
    now = utc_now()
    request = ApprovalRequest(
        action="deploy",
        workspace_id=emulator.demo["workspace_id"],
        workspace_name="housepricedrift",
        pipeline_id=emulator.demo["pipeline_id"],
        pipeline_name="housepricepipe",
        pipeline_version=version,
        deploy_id="housepricepipe",
        requester_id="UOPS",
        channel="#console",
        expires_at=now + timedelta(hours=1),
        state=ApprovalState.CALLING,
        decided_by="ULEAD",
        call_sent_at=now - timedelta(minutes=1),
    )
    async with services.sessions() as session:
        request = await create_request(session, request)
        await session.commit()
        return request


async def test_a_call_of_unknown_fate_is_reconciled_by_version_uuid(
    services: Services, demo_today: Emulator
) -> None:
    assert demo_today.demo is not None
    workspace_id = demo_today.demo["workspace_id"]
    client = services.wallaroo
    newer = await client.create_pipeline(workspace_id, "housepricepipe")

    # The call never arrived: the old version still runs, so nothing is sent again.
    deploys = demo_today.calls_to(DEPLOY_CALL)
    lost = await calling_request(services, demo_today, newer.pipeline_variant_version)
    await carry_out(services, lost.id or 0)
    ended = await finished(services, lost.id or 0)
    assert ended.current_state is ApprovalState.FAILED and "not sent again" in (ended.outcome or "")
    assert demo_today.calls_to(DEPLOY_CALL) == deploys

    # The call did arrive before the process died: it is followed, not sent again.
    arrived = await calling_request(services, demo_today, newer.pipeline_variant_version)
    await client.deploy_pipeline(
        demo_today.demo["pipeline_id"],
        None,
        "housepricepipe",
        pipeline_version=newer.pipeline_variant_version,
    )
    deploys = demo_today.calls_to(DEPLOY_CALL)
    await carry_out(services, arrived.id or 0)
    ended = await finished(services, arrived.id or 0)
    assert ended.current_state is ApprovalState.SUCCEEDED, ended.outcome
    assert demo_today.calls_to(DEPLOY_CALL) == deploys

"""Every command of the grammar through the router, against the seeded emulator over real HTTP:
the happy path and a bad input each, roles, escaping, and the audit of it all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.services import Services, open_services
from bot.settings import Settings
from handlers.blocks import Reply, render_text
from handlers.context import Actor
from handlers.router import handle_command
from storage.audit import recent_entries, verify_chain
from storage.watches import list_subscriptions, list_watches
from tests.conftest import Emulator

ADMIN = Actor("UADMIN", "ada", "T1", "C1")
VIEWER = Actor("UVIEWER", "val", "T1", "C1")


@pytest.fixture
def demo(start_emulator: Callable[..., Emulator]) -> Emulator:
    return start_emulator(seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
async def services(demo: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(
        wallaroo_api_url=demo.api_url,
        wallaroo_token_url=demo.token_url,
        wallaroo_client_secret=demo.config.client_secret,
        wallaroo_username=None,
        wallaroo_password=None,
        database_url=f"sqlite:///{tmp_path}/chatops.db",
        chatops_admins="UADMIN",
    )
    async with open_services(settings) as opened:
        yield opened


async def say(services: Services, text: str, actor: Actor = ADMIN) -> str:
    reply = await handle_command(services, actor, text)
    assert isinstance(reply, Reply)
    reply.to_slack()  # slack_sdk validates every block's limits here
    return render_text(reply)


# (command, text expected in the reply)
HAPPY = [
    ("help", "workspace create"),
    ("help pipelines", "pipeline create"),
    ("features", "plateau"),
    ("workspaces", "housepricedrift"),
    ("workspace users housepricedrift", "owner"),
    ("users", "admin@wallaroo.example"),
    ("models housepricedrift", "housepricemodel"),
    ("model housepricedrift housepricemodel", "1 version"),
    ("pipelines housepricedrift", "housepricepipe"),
    ("status housepricedrift housepricepipe", "Running"),
    (
        "url housepricedrift housepricepipe",
        "/v1/api/pipelines/infer/housepricepipe-1/housepricepipe",
    ),
    ("assays housepricedrift housepricepipe", "example assay"),
    ("assay results 1", "Ok"),
    ("assay baseline 1", "records from"),
    ("assay run 1", "29 window"),
    ("access list", "UADMIN"),
    ("audit 5", "Audit log"),
]


@pytest.mark.parametrize(("command", "expected"), HAPPY)
async def test_read_commands(services: Services, command: str, expected: str) -> None:
    assert expected in await say(services, command)


# (command, text expected in the error reply)
BAD = [
    ("workspacez", "Did you mean"),
    ("workspace users nowhere", "No workspace is named"),
    ("workspace users housepricedrif", "housepricedrift"),
    ("models", "workspace"),
    ("model housepricedrift nosuchmodel", "No model"),
    ("pipelines housepricedrift extra words", "pipelines"),
    ("status housepricedrift housepricepip", "housepricepipe"),
    ("url 999 housepricepipe", "No workspace has id 999"),
    ("assays housepricedrift nopipe", "No pipeline"),
    ("assay results 4242", "assay 4242 not found"),
    ("assay run notanumber", "assay run"),
    ("user invite not-an-email", "email"),
    ("access grant @nobody wizard", "role"),
    ("audit -3", "audit"),
]


@pytest.mark.parametrize(("command", "expected"), BAD)
async def test_bad_input_gets_a_specific_reply(
    services: Services, command: str, expected: str
) -> None:
    assert expected in await say(services, command)


async def test_writes_then_reads(services: Services) -> None:
    assert "Created workspace" in await say(services, "workspace create team-a")
    assert "already exists" in await say(services, "workspace create team-a")
    assert "Invited" in await say(services, "user invite bo@example.com")
    assert "already a Wallaroo user" in await say(services, "user invite bo@example.com")
    assert "Added bo@example.com" in await say(services, "workspace add-user team-a bo@example.com")
    assert "collaborator" in await say(services, "workspace users team-a")
    assert "Removed" in await say(services, "workspace remove-user team-a bo@example.com")
    assert "is not in" in await say(services, "workspace remove-user team-a bo@example.com")
    assert "Deactivated" in await say(services, "user deactivate bo@example.com")
    assert "already deactivated" in await say(services, "user deactivate bo@example.com")
    assert "Activated" in await say(services, "user activate bo@example.com")
    created = await say(services, "pipeline create housepricedrift newpipe housepricemodel")
    assert "Created pipeline *newpipe*" in created and "1 model step" in created
    assert "new version" in await say(services, "pipeline create housepricedrift newpipe")
    assert "Copied" in await say(services, "pipeline copy housepricedrift newpipe newpipe-copy")
    assert "already exists" in await say(services, "pipeline copy housepricedrift newpipe newpipe")
    assert "not deployed" in await say(services, "status housepricedrift newpipe")
    assert "inactive" in await say(services, "assay disable 1")
    assert "is now active" in await say(services, "assay enable 1")
    created = await say(
        services,
        'assay create housepricedrift housepricepipe iopath="input 0 0" '
        "baseline_start=2026-10-28T00:00:00Z baseline_end=2026-10-29T00:00:00Z alert=0.1",
    )
    assert "Created assay" in created


async def test_watch_and_subscribe_bookkeeping(services: Services) -> None:
    assert "Watching *housepricepipe*" in await say(
        services, "watch housepricedrift housepricepipe <#C42|ml-alerts>"
    )
    assert "already watched" in await say(services, "watch housepricedrift housepricepipe")
    assert "Stopped watching" in await say(services, "unwatch housepricedrift housepricepipe")
    assert "is not watched" in await say(services, "unwatch housepricedrift housepricepipe")
    assert "will go to" in await say(services, "subscribe assay 1")  # this channel: C1
    assert "already has a subscription" in await say(services, "subscribe assay 1 #alerts")
    assert "No more alerts" in await say(services, "unsubscribe assay 1")
    assert "No assay has id 99" in await say(services, "subscribe assay 99")
    async with services.sessions() as session:
        assert await list_watches(session) == []
        assert await list_subscriptions(session) == []


async def test_viewers_are_refused_writes_and_the_refusal_is_audited(
    services: Services,
) -> None:
    refused = await say(services, "workspace create sneaky", VIEWER)
    assert "needs the *operator* role" in refused or "needs the operator role" in refused
    assert "housepricedrift" in await say(services, "workspaces", VIEWER)
    assert "admin" in await say(services, "audit", VIEWER)
    granted = await say(services, "access grant <@UVIEWER|val> operator")
    assert "now has the *operator* role" in granted or "now has the operator role" in granted
    assert "Created workspace" in await say(services, "workspace create allowed", VIEWER)
    async with services.sessions() as session:
        entries = await recent_entries(session, 50)
        assert (await verify_chain(session)).ok
    outcomes = [(e.slack_user_id, e.command_text, e.outcome) for e in entries]
    assert ("UVIEWER", "workspace create sneaky", "refused") in outcomes
    assert ("UVIEWER", "workspace create allowed", "ok") in outcomes


async def test_hostile_names_are_escaped(services: Services) -> None:
    name = "<!channel> <@U123> <https://x|y> *bold* & co"
    reply = await handle_command(services, ADMIN, f'workspace create "{name}"')
    payload = str(reply.to_slack())
    for raw in ("<!channel>", "<@U123>", "<https://x|y>"):
        assert raw not in payload
    assert "&amp; co" in payload
    listing = str((await handle_command(services, ADMIN, "workspaces")).to_slack())
    assert "<!channel>" not in listing and "&lt;!channel&gt;" in listing


async def test_wallaroo_down_is_a_clear_reply(services: Services, demo: Emulator) -> None:
    demo.control("faults", {"path_prefix": "/v1/api/workspaces", "error_rate": 1.0, "status": 503})
    text = await say(services, "workspaces")
    assert "Wallaroo" in text and "503" in text and "Traceback" not in text

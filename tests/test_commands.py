"""Every command of the grammar through the router, against the seeded emulator over real HTTP:
the happy path and a bad input each, roles, escaping, and the audit of it all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.services import open_services
from handlers.commands import router
from handlers.commands.router import handle_command
from handlers.context import Actor, Services
from handlers.render.blocks import Reply, render_text
from storage.audit import recent_entries, verify_chain
from storage.watches import list_subscriptions, list_watches
from tests.conftest import Emulator, both_api_modes

# Every test here runs against today's Wallaroo and again against the 2022 tutorial's.
api_mode = both_api_modes

ADMIN = Actor("UADMIN", "ada", "T1", "C1")
VIEWER = Actor("UVIEWER", "val", "T1", "C1")


@pytest.fixture
def demo(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
async def services(demo: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(demo.bot_settings(tmp_path)) as opened:
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
    ("assay results 4242", "No assay has id 4242"),  # as `assay run 4242` says (issue 16)
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


# The demo's logs start 30 days before today's midnight (UTC): a baseline day with records.
DEMO_DAY_ONE = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
    days=29
)

# Writes in an order that makes each one's effect visible to the next: (command, expected).
WRITES = [
    ("workspace create team-a", "Created workspace"),
    ("workspace create team-a", "already exists"),
    ("user invite bo@example.com", "Invited"),
    ("user invite bo@example.com", "already a Wallaroo user"),
    ("workspace add-user team-a bo@example.com", "Added bo@example.com"),
    ("workspace users team-a", "collaborator"),
    ("workspace remove-user team-a bo@example.com", "Removed"),
    ("workspace remove-user team-a bo@example.com", "is not in"),
    ("user deactivate bo@example.com", "Deactivated"),
    ("user deactivate bo@example.com", "already deactivated"),
    ("user activate bo@example.com", "Activated"),
    ("user activate bo@example.com", "already active"),
    ("pipeline create housepricedrift newpipe housepricemodel", "1 model step"),
    ("pipeline create housepricedrift newpipe", "new version"),
    ("pipeline create housepricedrift otherpipe nosuchmodel", "No model"),
    ("pipeline copy housepricedrift newpipe newpipe", "already exists"),
    ("status housepricedrift newpipe", "not deployed"),
    ("assay disable 1", "is now inactive"),
    ("assay disable 1", "is already inactive"),
    ("assay enable 1", "is now active"),
    ("assay enable 1", "is already active"),
    (
        'assay create housepricedrift housepricepipe iopath="input 0 0" '
        f"baseline_start={DEMO_DAY_ONE:%Y-%m-%dT%H:%M:%SZ} "
        f"baseline_end={DEMO_DAY_ONE + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ} alert=0.1",
        "Created assay",
    ),
    ("assay create housepricedrift housepricepipe alert=0.1", "baseline_start"),
    ("watch housepricedrift housepricepipe <#C42|ml-alerts>", "Watching housepricepipe"),
    ("watch housepricedrift housepricepipe", "already watched"),
    ("unwatch housepricedrift housepricepipe", "Stopped watching"),
    ("unwatch housepricedrift housepricepipe", "is not watched"),
    ("subscribe assay 1", "will go to"),
    ("subscribe assay 1 #alerts", "already has a subscription"),
    ("unsubscribe assay 1", "No more alerts"),
    ("subscribe assay 99", "No assay has id 99"),
    ("access grant <@UOPS|ops> operator", "now has the operator role"),
    ("access revoke <@UOPS|ops> operator", "no longer has the operator role"),
    ("access revoke <@UOPS|ops> operator", "did not have"),
    ("deploy housepricedrift housepricepipe new model", "created: Deploy pipeline"),
    ("undeploy housepricedrift housepricepipe", "created: Undeploy pipeline"),
    ("undeploy housepricedrift newpipe", "is not deployed; there is nothing to undeploy"),
    ("deploy housepricedrift nosuchpipe", "Did you mean"),
    ("approvals", "Nothing is waiting for you"),
    ("approve 1", "someone else must decide it (four-eyes)"),
    ("reject 1 too risky", "someone else must decide it (four-eyes)"),
    ("approve 99", "There is no approval request #99"),
]


# Today's Wallaroo has no pipelines/copy; the tutorial's does.
COPY = {
    "seed": "Copied",
    "current": "This Wallaroo has no pipeline copy",
}


async def test_writes_then_reads(services: Services, api_mode: str) -> None:
    for command, expected in WRITES:
        assert expected in await say(services, command), command
    copied = await say(services, "pipeline copy housepricedrift newpipe newpipe-copy")
    assert COPY[api_mode] in copied


async def test_watches_leave_no_rows_once_removed(services: Services) -> None:
    for command, _ in WRITES:
        if command.startswith(("watch", "unwatch", "subscribe", "unsubscribe")):
            await say(services, command)
    async with services.sessions() as session:
        assert await list_watches(session) == []
        assert await list_subscriptions(session) == []


async def test_viewers_are_refused_writes_and_the_refusal_is_audited(
    services: Services,
) -> None:
    refused = await say(services, "workspace create sneaky", VIEWER)
    assert "needs the operator role; you are viewer" in refused
    assert "housepricedrift" in await say(services, "workspaces", VIEWER)
    assert "admin" in await say(services, "audit", VIEWER)
    granted = await say(services, "access grant <@UVIEWER|val> operator")
    assert "now has the operator role" in granted
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


async def test_unreachable_wallaroo_is_a_clear_reply(demo: Emulator, tmp_path: Path) -> None:
    settings = demo.bot_settings(tmp_path).model_copy(
        update={
            "wallaroo_api_url": "http://127.0.0.1:9/v1/api",
            "wallaroo_token_url": "http://127.0.0.1:9/auth/realms/master/protocol/openid-connect/token",
        }
    )
    async with open_services(settings) as down:
        text = await say(down, "workspaces")
    assert "Wallaroo is unreachable" in text and "Traceback" not in text


async def test_a_bug_in_a_handler_is_answered_logged_and_audited(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # No server can make our own code raise, so this one replaces a handler.
    async def broken(ctx: object, cmd: object) -> None:
        raise KeyError("boom")

    monkeypatch.setitem(router.HANDLERS, "features", broken)
    text = await say(services, "features")
    assert "Something went wrong in the bot itself" in text and "boom" not in text
    assert "boom" in caplog.text
    async with services.sessions() as session:
        (latest,) = await recent_entries(session, 1)
    assert (latest.command_text, latest.outcome) == ("features", "error")


async def test_assays_v2_refused_to_the_account_still_lists_v1(
    services: Services, demo: Emulator
) -> None:
    # A client-credentials service account is in no workspace: v2 may answer it 403.
    demo.control("faults", {"path_prefix": "/v2/api/assays/", "error_rate": 1.0, "status": 403})
    listing = await say(services, "assays housepricedrift housepricepipe")
    assert "example assay  ·  id 1  ·  active" in listing  # the v1 assay
    assert "Assays v2 not shown" in listing and "v2/api/assays/get" in listing
    assert "No assay has id 123456" in await say(services, "assay baseline 123456")
    refused = await say(services, "assay results 0123abcd")
    assert "does not allow v2/api/assays/get" in refused and "Traceback" not in refused
    # Asked once, remembered for a while: one refusal is not three probes.
    assert demo.calls_to("/v2/api/assays/get") == 1

"""Every command of the grammar through the router, against the seeded emulator over real HTTP:
the happy path and a bad input each, roles, escaping, and the audit of it all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.services import open_services
from handlers.commands import help as help_commands
from handlers.commands.router import handle_command
from handlers.context import Services
from storage.audit import recent_entries, verify_chain
from storage.watches import list_subscriptions, list_watches
from tests.helpers.commands import ADMIN, BAD, HAPPY, VIEWER, WRITES, say
from tests.helpers.emulators import Emulator, both_api_modes

# Every test here runs against today's Wallaroo and again against the 2022 tutorial's.
api_mode = both_api_modes


@pytest.fixture
def demo(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """A drift demo of its own, for a test that changes it."""
    return start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture(scope="module")
def read_demo(start_module_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """One drift demo for the reads and the refused inputs, which change nothing in it."""
    return start_module_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
async def services(demo: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(demo.bot_settings(tmp_path)) as opened:
        yield opened


@pytest.fixture
async def read_services(read_demo: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(read_demo.bot_settings(tmp_path)) as opened:
        yield opened


@pytest.mark.parametrize(("command", "expected"), HAPPY)
async def test_read_commands(read_services: Services, command: str, expected: str) -> None:
    assert expected in await say(read_services, command)


@pytest.mark.parametrize(("command", "expected"), BAD)
async def test_bad_input_gets_a_specific_reply(
    read_services: Services, command: str, expected: str
) -> None:
    assert expected in await say(read_services, command)


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
    async def broken(ctx: object, args: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(help_commands, "features", broken)
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

"""`watches [#channel]`: a channel's watches and assay subscriptions with who set them up and
since when; every channel for an admin who names none; paging; escaping of hostile names."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.services import open_services
from handlers.commands.router import handle_command
from handlers.context import Actor, Services
from tests.helpers.commands import ADMIN, VIEWER, say
from tests.helpers.emulators import Emulator, both_api_modes

api_mode = both_api_modes
WS = "housepricedrift"
OPERATOR = Actor("UOPS", "olga", "T1", "C7")


@pytest.fixture
def demo(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
async def services(demo: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(demo.bot_settings(tmp_path)) as opened:
        assert "now has the operator role" in await say(
            opened, "access grant <@UOPS|olga> operator"
        )
        yield opened


async def test_a_channel_lists_its_own_with_who_and_when(services: Services) -> None:
    assert "Watching" in await say(services, f"watch {WS} housepricepipe", OPERATOR)  # in C7
    assert "will go to" in await say(services, "subscribe assay 1 <#C9|ml-alerts>", OPERATOR)
    here = await say(services, "watches", Actor("UVIEWER", "val", "T1", "C7"))
    assert "Posting to #C7" in here
    assert "Pipeline housepricepipe (workspace housepricedrift): status changes to #C7" in here
    assert "set up by @UOPS" in here and "(just now)" in here and "UTC" in here
    assert "example assay" not in here  # that one posts to C9
    there = await say(services, "watches <#C9|ml-alerts>", Actor("UVIEWER", "val", "T1", "C9"))
    assert "Assay example assay (`1`, pipeline housepricepipe): drift alerts to #C9" in there
    assert "set up by @UOPS" in there and "housepricepipe (workspace" not in there
    assert there == await say(services, "watches <#C9|ml-alerts>", ADMIN)  # from C1


@pytest.mark.parametrize("named", ["<#C9|ml-alerts>", "<#C9>", "#ml-alerts"])
async def test_only_an_admin_may_name_another_channel(services: Services, named: str) -> None:
    # C9 may be private: what it follows is for its members (and admins), not any viewer.
    assert "will go to" in await say(services, "subscribe assay 1 <#C9|ml-alerts>", OPERATOR)
    for actor in (VIEWER, OPERATOR):  # typed in C1 and C7
        refused = await say(services, f"watches {named}", actor)
        assert "Only an admin may list another channel's watches" in refused
        assert "example assay" not in refused


async def test_an_admin_sees_every_channel_and_is_told_so(services: Services) -> None:
    await say(services, f"watch {WS} housepricepipe", OPERATOR)
    await say(services, "subscribe assay 1 <#C9|ml-alerts>", OPERATOR)
    text = await say(services, "watches", ADMIN)  # typed in C1, which follows nothing
    assert "Every channel (you are an admin" in text
    assert "#C7" in text and "#C9" in text


async def test_nothing_followed_says_how_to_start(services: Services) -> None:
    text = await say(services, "watches", VIEWER)
    assert "Nothing is followed here" in text and "/wallaroo watch WS PIPELINE" in text


async def test_console_channels_by_name(services: Services) -> None:
    # The console stores `#name`; `watches #name` finds it.
    assert "Watching" in await say(services, f"watch {WS} housepricepipe #ops", OPERATOR)
    assert "#ops" in await say(services, "watches #ops", Actor("UVIEWER", "val", "T1", "#ops"))


async def test_pages_of_entries(services: Services, demo: Emulator) -> None:
    for n in range(12):
        demo.new_demo_pipeline(f"pipe{n}")
        await say(services, f"watch {WS} pipe{n}", OPERATOR)
    first = await say(services, "watches", OPERATOR)
    assert "Page 1 of 2" in first and "next: `/wallaroo watches page 2`" in first
    assert "pipe11" in first and "pipe0 " not in first  # newest first
    second = await say(services, "watches page 2", OPERATOR)
    assert "pipe0 " in second and "pipe1 " in second
    assert "There is no page 3" in await say(services, "watches page 3", OPERATOR)


async def test_hostile_names_are_escaped(services: Services, demo: Emulator) -> None:
    admin = demo.admin()
    hostile = "<!channel> & <https://evil.example|co>"
    workspace = admin.ok("workspaces/create", {"workspace_name": hostile})["workspace_id"]
    body = {"pipeline_id": "pipe", "workspace_id": workspace, "definition": {}}
    admin.ok("pipelines/create", body)
    assert "Watching" in await say(services, f"watch {workspace} pipe", OPERATOR)
    reply = await handle_command(services, OPERATOR, "watches <#C7>")  # typed in C7
    sent = json.dumps(reply.to_slack())
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|co&gt;" in sent
    assert "<!channel>" not in sent and "<https://evil" not in sent


async def test_watch_and_subscribe_still_need_an_operator(services: Services) -> None:
    assert "operator" in await say(services, f"watch {WS} housepricepipe", VIEWER)
    assert "Nothing is followed" in await say(services, "watches", VIEWER)

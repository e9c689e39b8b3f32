"""`help` through the router, as Slack and the console get it: what each command does, grouped
by area, paging and roles said where they apply, inside Block Kit's limits; and the console's
own commands in the console's `help`."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.console import run_console
from bot.services import open_services
from handlers.commands.help import AREA_ABOUT
from handlers.commands.router import handle_command
from handlers.commands.specs import AREAS, SPECS
from handlers.context import Actor, Services
from handlers.render.blocks import MAX_BLOCKS, SECTION_CHARS, Reply, render_text
from tests.helpers.emulators import Emulator

VIEWER = Actor("UVIEWER", "val", "T1", "#console")


@pytest.fixture
async def services(emulator: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(emulator.bot_settings(tmp_path)) as opened:
        yield opened


async def help_reply(services: Services, text: str) -> tuple[Reply, str]:
    reply = await handle_command(services, VIEWER, text)
    message = reply.to_slack()  # slack_sdk checks each block's limits here
    assert len(message["blocks"]) <= MAX_BLOCKS
    for block in message["blocks"]:
        assert len((block.get("text") or {}).get("text", "")) <= SECTION_CHARS
    return reply, render_text(reply)


async def test_help_says_what_every_command_does_grouped_by_area(services: Services) -> None:
    reply, text = await help_reply(services, "help")
    for spec in SPECS:
        assert f"{spec.usage}" in text and spec.about in text, spec.verb
    # Grouped: each area's title comes before its commands and after the previous area's.
    positions = [text.index(AREA_ABOUT[area][0] + "\n") for area in AREAS]
    assert positions == sorted(positions)
    assert text.index("Drift assays\n") < text.index("/wallaroo assay enable ID")
    assert text.index("/wallaroo assay enable ID") < text.index("Watches and alerts\n")
    # Paging where commands page, and the role a change needs.
    assert "`/wallaroo assay results ID [page N]`" in text
    assert "`/wallaroo deploy WS PIPELINE [reason...]`" in text  # takes no page
    assert "give someone a bot role _(admin)_" in text
    assert "page 2" in text and "help AREA" in text
    assert reply.text == f"/wallaroo commands ({len(SPECS)})"


async def test_help_on_one_area_has_its_commands_options_and_notes(services: Services) -> None:
    _, text = await help_reply(services, "help assays")
    assays = [spec for spec in SPECS if spec.area == "assays"]
    for spec in assays:
        assert spec.about in text, spec.verb
    assert "/wallaroo deploy" not in text and "/wallaroo watch" not in text
    assert AREA_ABOUT["assays"][1] in text
    assert "Required: baseline_start and baseline_end" in text  # assay create's options
    assert "v2 assay's UUID" in text and "page N" in text


@pytest.mark.parametrize(
    ("typed", "area"), [("help deploy", "deployments"), ("help access grant", "access")]
)
async def test_help_on_a_command_shows_its_area(services: Services, typed: str, area: str) -> None:
    _, text = await help_reply(services, typed)
    assert text.splitlines()[0] == f"/wallaroo {area}: {AREA_ABOUT[area][0]}"
    assert all(spec.about in text for spec in SPECS if spec.area == area)


async def console(services: Services, typed: str, meta: dict | None = None) -> str:
    out = io.StringIO()
    status = await run_console(services, VIEWER, stdin=io.StringIO(typed), stdout=out, meta=meta)
    assert status == 0
    return out.getvalue()


async def advance(words: list[str]) -> str:
    return "advanced"


async def test_the_console_help_adds_the_console_commands(services: Services) -> None:
    out = await console(services, "help\nhelp console\n", meta={":advance": advance})
    first, second = out.split("$ help console")
    for shown in (first, second):
        assert "`:as USER` — act as USER" in shown
        assert "`:advance DURATION` — demo only" in shown
        assert "`quit` — leave" in shown and "Ctrl-C" in shown
    assert "/wallaroo assay results ID [page N]" in first
    assert "/wallaroo assay" not in second  # `help console` is only the console's own
    assert "Up and Down" not in out  # piped: no line editor, no history


async def test_the_console_help_lists_advance_only_in_the_demo(services: Services) -> None:
    out = await console(services, "help\n")
    assert "`:as USER`" in out and ":advance" not in out

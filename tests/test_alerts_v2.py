"""Assays v2 end to end against today's emulator (api="current", the drift demo with its v2
twin): the assay commands by UUID prefix, and a drift episode of the v2 assay through `serve`
and its poller into a fake Slack — posted once, edited, recovered in its thread."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.services import Services, open_services
from bot.wallaroo import AssayV2
from emulator.assays.config import format_time_z
from emulator.seed import DAY_MS
from handlers.assay_lookup import find_assay
from handlers.context import CommandProblem
from storage.watches import list_subscriptions
from tests.conftest import Emulator
from tests.test_alerts import (
    ALERTS,
    FAST,
    edits,
    last_edit,
    next_day,
    openings,
    posts,
    say,
    thread,
    undrifted_day,
)
from tests.test_commands import say as say_to
from tests.test_slack_http import running_bot, wait_until


@pytest.fixture
def today(start_emulator: Callable[..., Emulator]) -> Emulator:
    """A drift demo of its own (the tests move its clock), answering as today's Wallaroo."""
    return start_emulator(api="current", seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
async def services(today: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(today.bot_settings(tmp_path)) as opened:
        yield opened


def v2_id(emulator: Emulator) -> str:
    assert emulator.demo is not None
    return emulator.demo["assay_v2_id"]


async def test_assay_commands_take_a_v2_prefix_and_show_the_short_id(
    today: Emulator, services: Services
) -> None:
    uuid, prefix = v2_id(today), v2_id(today)[:6]
    listing = await say_to(services, "assays housepricedrift housepricepipe")
    assert "id 1 " in listing  # the v1 assay, and its v2 twin beside it
    assert f"`{uuid[:8]}` (v2)" in listing and "next run" in listing and uuid not in listing
    results = await say_to(services, f"assay results {prefix}")
    assert f"Latest results of assay {uuid[:8]}" in results and "Ok" in results
    assert "records from" in await say_to(services, f"assay baseline {prefix}")
    assert "window(s)" in await say_to(services, f"assay run {uuid.upper()}")
    assert f"Assay {uuid[:8]} is now inactive" in await say_to(services, f"assay disable {prefix}")
    assert "is now active" in await say_to(services, f"assay enable {uuid}")

    other = "0" if uuid[0] != "0" else "1"
    missing = await say_to(services, f"assay results {other}{uuid[1:6]}")
    assert "No assay has an id starting" in missing

    assert today.demo is not None
    first_day = today.demo["drift_starts_ms"] - 30 * DAY_MS
    created = await say_to(
        services,
        f"assay create housepricedrift housepricepipe baseline_start={format_time_z(first_day)} "
        f'baseline_end={format_time_z(first_day + DAY_MS)} iopath="input tensor 0" alert=0.2 '
        "name=second",
    )
    assert "Created assay second" in created and "v2" in created
    (second,) = [a for a in await services.wallaroo.list_assays_v2() if a.name == "second"]
    assert second.path.key == "in.tensor.0" and second.path.thresholds.alert == 0.2
    assert f"`{second.id[:8]}`" in created

    assert "will go to" in await say_to(services, f"subscribe assay {prefix} #alerts")
    async with services.sessions() as session:
        (subscription,) = await list_subscriptions(session)
    assert subscription.assay_id == uuid and subscription.assay_name == "example assay"
    assert "No more alerts" in await say_to(services, f"unsubscribe assay {uuid[:8]}")


def test_a_v2_drift_episode_posts_once_edits_and_recovers(today: Emulator, tmp_path: Path) -> None:
    assert today.demo is not None
    drift_day = today.demo["drift_starts_ms"]
    with running_bot(today, tmp_path, **FAST) as bot:
        assert "will go to" in say(bot, f"subscribe assay {v2_id(today)[:6]} <#{ALERTS}|a>")
        time.sleep(0.6)  # polls see the 29 Ok results: no message
        assert posts(bot.slack) == []

        next_day(today)  # the first drifted day completes: Alert
        (opening,) = wait_until(lambda: openings(bot.slack))
        text = json.dumps(opening)
        assert "Alert: drift on assay example assay" in text
        assert "Bins that moved most" in text and "housepricepipe" in text
        assert "alert 0.1000" in text and "alert_run_assay" in text
        (upload,) = bot.slack.wait_for("/upload/", 1)
        assert upload.body["png"] and upload.body["bytes"] > 10_000

        next_day(today)  # a second drifted day: the same message, edited
        wait_until(lambda: [e for e in edits(bot.slack) if "2 breaching" in json.dumps(e)])
        assert len(openings(bot.slack)) == 1

        undrifted_day(today, drift_day + 2 * DAY_MS)
        next_day(today)  # back to Ok: the recovery in the thread
        (recovery,) = wait_until(lambda: thread(bot.slack))
        assert "Back to *Ok*" in json.dumps(recovery)
        assert recovery["thread_ts"] == bot.slack.posted_ts[0]
        wait_until(lambda: "Recovered at" in last_edit(bot.slack))
        assert len(openings(bot.slack)) == 1


class TwoAssays:
    """A client whose two v2 assays share their first 8 characters: a collision no emulator
    run can be made to produce on demand (its ids are random)."""

    def __init__(self, template: AssayV2) -> None:
        ids = ("3fa85f64-0000-4562-b3fc-2c963f66afa6", "3fa85f64-1111-4562-b3fc-2c963f66afa6")
        self.assays = [template.model_copy(update={"id": i, "name": i[9:13]}) for i in ids]

    async def uses_assays_v2(self) -> bool:
        return True

    async def list_assays_v2(self) -> list[AssayV2]:
        return self.assays


async def test_an_ambiguous_prefix_lists_the_matches(today: Emulator, services: Services) -> None:
    client = TwoAssays(await services.wallaroo.get_assay_v2(v2_id(today)))
    with pytest.raises(CommandProblem) as caught:
        await find_assay(client, "3fa85f64")  # type: ignore[arg-type]
    assert "matches 2 assays" in caught.value.message
    assert "`3fa85f64-0` (0000)" in caught.value.message and "(1111)" in caught.value.message
    assert (await find_assay(client, "3fa85f64-1")).name == "1111"  # type: ignore[arg-type]

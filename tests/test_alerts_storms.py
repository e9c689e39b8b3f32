"""Storms and flapping end to end (issue 15, item 3), on both emulator API modes: five assays of
one pipeline breaching in one poll make ONE Slack message whose lines are edited in place, the
deployment failing after them joins that message, each line's buttons act on its own episode;
an assay going Alert, Ok, Alert, Ok, Alert stays one episode marked flapping and closes once Ok
for the whole flap window (on the bot's clock, moved by the test)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.chat.console import ConsoleChat
from bot.services import open_services
from emulator.seed import DAY_MS
from handlers.alerting.deployments import Observation, apply_observation
from handlers.alerting.flapping import close_settled
from storage.alerts import AlertEpisode, get_episode, open_episodes
from storage.outbox import pending_messages
from storage.watches import DeploymentWatch, add_watch
from tests.helpers.alert_flows import (
    ALERTS,
    FAST,
    edits,
    last_edit,
    more_assays,
    next_day,
    openings,
    posts,
    say,
    thread,
    undrifted_day,
)
from tests.helpers.alert_flows import drift as drift
from tests.helpers.clock import MovableClock
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import Bot, running_bot

api_mode = both_api_modes


def lines_of(message: dict) -> list[str]:
    """The group message's lines (its sections' text), in order."""
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def edited_lines(bot: Bot) -> list[str]:
    found = edits(bot.slack)
    return lines_of(found[-1]) if found else []


def edited_blocks(bot: Bot) -> str:
    found = edits(bot.slack)
    return json.dumps(found[-1]["blocks"]) if found else ""


def test_five_assays_breaching_in_one_poll_make_one_message_edited_in_place(
    drift: Emulator, tmp_path: Path
) -> None:
    assert drift.demo is not None
    assays = [drift.demo["assay_id"], *more_assays(drift, 4)]
    with running_bot(drift, tmp_path, **FAST) as bot:
        for assay in assays:
            assert "will go to" in say(bot, f"subscribe assay {assay} <#{ALERTS}|a>")
        say(bot, f"watch housepricedrift housepricepipe <#{ALERTS}|a>")
        bot.poll_once()
        assert posts(bot.slack) == []

        next_day(drift)  # all five breach in the next poll
        (opening,) = wait_until(lambda: openings(bot.slack))
        bot.poll_once()
        bot.poll_once()
        assert len(bot.slack.api_calls("chat.postMessage")) == 1  # one message, no chart each
        text = json.dumps(opening, ensure_ascii=False)
        assert "5 open alert(s) on pipeline housepricepipe" in text
        assert len(lines_of(opening)) == 5 and "storm 3" in text and "example assay" in text
        members = [b["elements"][0]["value"] for b in opening["blocks"] if b["type"] == "actions"]
        assert len(set(members)) == 5  # each line's buttons name its own episode
        # App Home counts the five alerts, not the group message holding them as a sixth.
        opened = {"type": "app_home_opened", "user": "UADMIN", "channel": "D1", "tab": "home"}
        assert bot.event(opened).status_code == 200
        (published,) = bot.slack.wait_for("/api/views.publish", 1)
        assert "Open alerts* (5)" in json.dumps(published.body["view"])

        next_day(drift)  # a second breach each: the lines change, in the same message
        wait_until(lambda: sum("2 breaching" in line for line in edited_lines(bot)) == 5)
        assert {e["ts"] for e in edits(bot.slack)} == {bot.slack.posted_ts[0]}

        # One line acknowledged: only that line says so, the others keep their reminders.
        answer = json.dumps(bot.reply_to(bot.click("alert_ack", members[1], "UADMIN")[1]))
        assert "no more reminders" in answer
        wait_until(lambda: edited_blocks(bot).count("Acknowledged by") == 1)

        # Four hours on: ONE reminder in the group's thread names the four unacknowledged lines.
        assert bot.clock is not None
        bot.clock.advance(4 * 3600)
        (reminder,) = wait_until(lambda: [t for t in thread(bot.slack) if "Still open" in str(t)])
        bot.poll_once()
        assert len([t for t in thread(bot.slack) if "Still open" in str(t)]) == 1
        assert reminder["thread_ts"] == bot.slack.posted_ts[0]
        assert reminder["text"].count("*storm") + reminder["text"].count("*example") == 4

        # The pipeline fails too: its line joins the same message.
        drift.admin().ok(
            "pipelines/undeploy",
            {
                "pipeline_id": drift.demo["pipeline_id"],
                "deployment_id": drift.demo["deployment_id"],
            },
        )
        wait_until(lambda: "Deployment housepricepipe: Gone" in last_edit(bot.slack))
        assert "6 open alert(s)" in last_edit(bot.slack)
        bot.poll_once()
        assert openings(bot.slack) == [opening]

        # The assays recover: five recoveries in the group's thread, named, lines struck out.
        undrifted_day(drift, drift.demo["drift_starts_ms"] + 2 * DAY_MS)
        next_day(drift)
        wait_until(lambda: len([t for t in thread(bot.slack) if "Back to" in json.dumps(t)]) == 5)
        recovered = [t for t in thread(bot.slack) if "Back to *Ok*" in json.dumps(t)]
        assert all(t["thread_ts"] == bot.slack.posted_ts[0] for t in thread(bot.slack))
        named = re.findall(r"\*(storm \d|example assay)\*: :white_check_mark: Back", str(recovered))
        assert len(set(named)) == 5
        wait_until(lambda: "1 open alert(s)" in last_edit(bot.slack))
        assert openings(bot.slack) == [opening]


@pytest.mark.parametrize(("api_mode", "generation"), [("current", "v2"), ("seed", "v1")])
def test_a_flapping_assay_stays_one_episode_and_closes_once_ok_for_the_window(
    start_emulator: Callable[..., Emulator], tmp_path: Path, api_mode: str, generation: str
) -> None:
    drift = start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)
    assert drift.demo is not None
    day0 = drift.demo["drift_starts_ms"]
    assay = str(drift.demo["assay_id"]) if generation == "v1" else drift.demo["assay_v2_id"][:6]
    settings = {**FAST, "chatops_flap_window_seconds": 3600}
    with running_bot(drift, tmp_path, **settings) as bot:
        assert bot.clock is not None
        say(bot, f"subscribe assay {assay} <#{ALERTS}|a>")
        bot.poll_once()
        next_day(drift)  # day 0 drifts: Alert
        (opening,) = wait_until(lambda: openings(bot.slack))
        undrifted_day(drift, day0 + DAY_MS)
        next_day(drift)  # Ok: recovered, closed
        wait_until(lambda: "Recovered at" in last_edit(bot.slack))
        next_day(drift)  # Alert again, within the window: the same episode, flapping
        wait_until(lambda: "Flapping" in last_edit(bot.slack))
        assert "alert_ack" in last_edit(bot.slack)  # open again, its buttons back
        undrifted_day(drift, day0 + 3 * DAY_MS)
        next_day(drift)  # Ok, but flapping: it stays open
        wait_until(lambda: "closes if it stays Ok" in last_edit(bot.slack))
        next_day(drift)  # Alert
        wait_until(lambda: "(2x)" in last_edit(bot.slack))
        bot.poll_once()
        assert openings(bot.slack) == [opening]  # one episode all along
        flapping = [t for t in thread(bot.slack) if "flapping" in json.dumps(t)]
        assert len(flapping) == 1  # said once, when it first came back

        undrifted_day(drift, day0 + 5 * DAY_MS)
        next_day(drift)  # Ok again...
        wait_until(lambda: "closes if it stays Ok" in last_edit(bot.slack))
        bot.poll_once()
        assert "Recovered at" not in last_edit(bot.slack)
        bot.clock.advance(3601)  # ...for the whole window: closed
        wait_until(lambda: "Recovered at" in last_edit(bot.slack))
        assert any("whole flapping window" in json.dumps(t) for t in thread(bot.slack))
        assert openings(bot.slack) == [opening]


async def test_a_flapping_deployment_keeps_one_episode_until_running_for_the_window(
    drift: Emulator, tmp_path: Path, database_url: str
) -> None:
    """Error, Running, Error, Running, Error: one episode, flapping, edited in place; Running
    for the whole window closes it, and the next Error is a new episode. The observations
    are given as the poller makes them, on the services' clock (moved here)."""
    clock = MovableClock()
    settings = drift.bot_settings(tmp_path, database_url=database_url)
    window = settings.chatops_flap_window_seconds
    async with open_services(settings, chat=ConsoleChat(io.StringIO()), clock=clock) as services:
        watch = DeploymentWatch(
            workspace_id=1, workspace_name="ws", pipeline_id=7, pipeline_name="pipe",
            channel=ALERTS, created_by="U",
        )  # fmt: skip
        async with services.sessions() as session:
            await add_watch(session, watch)

        async def seen(*statuses: str) -> list[AlertEpisode]:
            for status in statuses:
                async with services.sessions() as session:
                    await apply_observation(session, services, watch, Observation(status))
                    await session.commit()
                clock.advance(60)
            async with services.sessions() as session:
                return await open_episodes(session)

        (first,) = await seen("Running", "Error")
        assert await seen("Running") == []  # the first recovery closes it, as always
        async with services.sessions() as session:
            posted = await get_episode(session, first.id or 0)
            assert posted is not None
            posted.message_ts = "1.0"  # its opening went out: it can be edited again
            session.add(posted)
            await session.commit()
        (again,) = await seen("Error")
        assert again.id == first.id and '"flapping": true' in again.detail
        (held,) = await seen("Running")  # Running, but flapping: it stays open
        assert held.id == first.id and "ok_since" in held.detail
        (third,) = await seen("Error")
        assert third.id == first.id and '"flips": 2' in third.detail
        assert "ok_since" not in third.detail
        async with services.sessions() as session:
            rows = await pending_messages(session)
        assert [r.kind for r in rows].count("post") == 1  # one message all along
        assert sum("flapping" in r.body for r in rows if r.kind == "thread") == 1

        (settling,) = await seen("Running")
        assert "ok_since" in settling.detail
        clock.advance(window)
        async with services.sessions() as session:
            assert await close_settled(session, clock(), window) == 1
            await session.commit()
            assert await open_episodes(session) == []
        (new,) = await seen("Error")  # Ok for the whole window: the next trouble is new
        assert new.id != first.id and "flapping" not in new.detail

"""A pipeline and its assays failing together make one message (issue 15, item 3), on both
emulator API modes, over real HTTP into a fake Slack: the deployment in Error first and its
assays drifting next; one assay drifting first and the deployment failing next; both in the
same poll. The message that was the first episode's becomes the group's, edited in place;
each line is edited in place and keeps its own buttons."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from emulator.seed import DAY_MS
from tests.helpers.alert_flows import (
    ALERTS,
    FAST,
    edits,
    last_edit,
    more_assays,
    next_day,
    openings,
    say,
    thread,
    undrifted_day,
)
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import Bot, running_bot

api_mode = both_api_modes

MONTH = 30 * 86_400
# The deployment's Error is alerted once it has lasted this long on the bot's clock.
GRACE = {"chatops_startup_error_grace_seconds": 20}


@pytest.fixture
def failing(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """The drift demo whose deployment reports Error for a month of the emulator's time (its
    assays keep scoring meanwhile: the tests move the emulator's clock by days)."""
    return start_emulator(
        api=api_mode,
        seed_demo=True,
        deployment_startup_seconds=MONTH,
        deployment_startup_error_seconds=MONTH,
    )


def follow(bot: Bot, emulator: Emulator, assays: int = 1) -> None:
    """The demo's deployment watched and `assays` of its assays subscribed, in the alerts
    channel; a first poll, which sees the Error start (within its grace time)."""
    assert emulator.demo is not None
    ids = [emulator.demo["assay_id"], *more_assays(emulator, assays - 1)]
    for assay in ids:
        assert "will go to" in say(bot, f"subscribe assay {assay} <#{ALERTS}|a>")
    assert "Watching" in say(bot, f"watch housepricedrift housepricepipe <#{ALERTS}|a>")
    bot.poll_once()
    assert openings(bot.slack) == []


def lines_of(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def latest(bot: Bot) -> dict:
    """The pipeline's message as it reads now: its last edit, else its opening."""
    found = edits(bot.slack) or openings(bot.slack)
    return found[-1]


def members(message: dict) -> list[str]:
    """The episode each line's buttons act on, line by line."""
    return [b["elements"][0]["value"] for b in message["blocks"] if b["type"] == "actions"]


def one_message(bot: Bot) -> dict:
    """The pipeline's one message: one post in the channel, every edit of it and every thread
    reply in its thread."""
    (opening,) = openings(bot.slack)
    ts = bot.slack.posted_ts[0]
    assert {e["ts"] for e in edits(bot.slack)} <= {ts}
    assert {t["thread_ts"] for t in thread(bot.slack)} <= {ts}
    return opening


def recovered_lines(bot: Bot) -> list[str]:
    return [line for line in lines_of(latest(bot)) if line.startswith(":white_check_mark: ~")]


def test_a_deployment_in_error_then_two_assays_drifting_make_one_message(
    failing: Emulator, tmp_path: Path
) -> None:
    assert failing.demo is not None
    with running_bot(failing, tmp_path, **FAST, **GRACE) as bot:
        assert bot.clock is not None
        follow(bot, failing, assays=2)
        bot.clock.advance(21)  # past the grace time: the Error is alerted
        (opening,) = wait_until(lambda: openings(bot.slack))
        assert "Deployment housepricepipe is in Error" in json.dumps(opening)
        wait_until(lambda: bot.slack.posted_ts)

        next_day(failing)  # both assays breach in one poll: they join the deployment's message
        wait_until(lambda: "3 open alert(s) on pipeline housepricepipe" in last_edit(bot.slack))
        bot.poll_once()
        assert one_message(bot) == opening
        lines = lines_of(latest(bot))
        assert len(lines) == 3 and "Deployment housepricepipe: Error" in lines[0]
        assert sum("Assay " in line and "1 breaching" in line for line in lines) == 2
        assert len(set(members(latest(bot)))) == 3  # each line's buttons name its episode

        # The deployment's line acknowledged: only it says so; every line keeps its buttons.
        deployment, *assays = members(latest(bot))
        answer = json.dumps(bot.reply_to(bot.click("alert_ack", deployment, "UADMIN")[1]))
        assert "no more reminders" in answer
        wait_until(lambda: "Acknowledged by" in last_edit(bot.slack))
        blocks = latest(bot)["blocks"]
        assert json.dumps(blocks).count("Acknowledged by") == 1
        acked = next(i for i, b in enumerate(blocks) if "Acknowledged by" in json.dumps(b))
        assert blocks[acked + 1]["elements"][0]["value"] == deployment
        assert members(latest(bot)) == [deployment, *assays]

        # The assays recover: their lines are struck out in place, the deployment's stays.
        undrifted_day(failing, failing.demo["drift_starts_ms"] + DAY_MS)
        next_day(failing)
        wait_until(lambda: len(recovered_lines(bot)) == 2)
        assert "1 open alert(s)" in last_edit(bot.slack)
        assert "Deployment housepricepipe: Error" in lines_of(latest(bot))[0]
        assert members(latest(bot)) == [deployment]  # recovered lines lose their buttons
        assert "Acknowledged by" in last_edit(bot.slack)
        bot.poll_once()
        assert one_message(bot) == opening


def test_one_assay_drifting_then_the_deployment_failing_edit_the_assays_message(
    failing: Emulator, tmp_path: Path
) -> None:
    assert failing.demo is not None
    with running_bot(failing, tmp_path, **FAST, **GRACE) as bot:
        assert bot.clock is not None
        follow(bot, failing)
        next_day(failing)  # the assay breaches; the deployment's Error is still within grace
        (opening,) = wait_until(lambda: openings(bot.slack))
        assert "example assay" in json.dumps(opening) and "Deployment" not in json.dumps(opening)
        wait_until(lambda: bot.slack.posted_ts)

        bot.clock.advance(21)  # the next poll: the Error is alerted, in the assay's message
        wait_until(lambda: "2 open alert(s) on pipeline housepricepipe" in last_edit(bot.slack))
        bot.poll_once()
        assert one_message(bot) == opening
        lines = lines_of(latest(bot))
        assert len(lines) == 2 and "Assay example assay: Alert" in lines[0]
        assert "Deployment housepricepipe: Error" in lines[1]
        assay, deployment = members(latest(bot))

        # The assay's line acknowledged, then recovered, in place; the deployment's stays open.
        bot.reply_to(bot.click("alert_ack", assay, "UADMIN")[1])
        wait_until(lambda: "Acknowledged by" in last_edit(bot.slack))
        assert json.dumps(latest(bot)["blocks"]).count("Acknowledged by") == 1
        assert members(latest(bot)) == [assay, deployment]
        undrifted_day(failing, failing.demo["drift_starts_ms"] + DAY_MS)
        next_day(failing)
        wait_until(lambda: len(recovered_lines(bot)) == 1)
        assert "1 open alert(s)" in last_edit(bot.slack)
        assert members(latest(bot)) == [deployment]
        recovery = [t for t in thread(bot.slack) if "Back to *Ok*" in json.dumps(t)]
        assert len(recovery) == 1 and "*example assay*" in recovery[0]["text"]
        bot.poll_once()
        assert one_message(bot) == opening


def test_a_deployment_and_an_assay_failing_in_the_same_poll_make_one_message(
    failing: Emulator, tmp_path: Path
) -> None:
    """The deployment and assay polls run at once, each in its own transaction: the second to
    open its episode joins the first's (a poll every hour here: only `poll_once` polls)."""
    settings = {**FAST, **GRACE, "chatops_poll_seconds": 3600}
    with running_bot(failing, tmp_path, **settings) as bot:
        assert bot.clock is not None
        follow(bot, failing)
        bot.clock.advance(21)
        next_day(failing)
        bot.poll_once()  # both open in this poll
        wait_until(lambda: "2 open alert(s)" in json.dumps(latest(bot)))
        bot.poll_once()
        one_message(bot)
        assert len(lines_of(latest(bot))) == 2

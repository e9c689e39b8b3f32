"""Silence end to end (issue 15, item 2), on both emulator API modes: an assay with no new
result for two of its windows opens one "no data" episode (not a drift one) that closes when
results come back; a watched deployment whose status Wallaroo answers with errors for several
polls opens one too, closed once a status is read again, while one failed call is a blip.
The bot's clock is moved by the test; the emulator's (its windows) by its control API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.seed import DAY_MS
from tests.helpers.alert_flows import (
    ALERTS,
    FAST,
    demo_assay,
    last_edit,
    next_day,
    openings,
    posts,
    say,
    thread,
)
from tests.helpers.alert_flows import drift as drift
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import running_bot

api_mode = both_api_modes
DAY = DAY_MS / 1000


@pytest.mark.parametrize(
    ("api_mode", "generation"), [("current", "v1"), ("current", "v2"), ("seed", "v1")]
)
def test_a_silent_assay_opens_one_no_data_episode_and_recovers_when_results_return(
    drift: Emulator, tmp_path: Path, generation: str
) -> None:
    with running_bot(drift, tmp_path, **FAST) as bot:
        assert bot.clock is not None
        assay = demo_assay(drift, generation)
        runbook = "runbook=https://wiki.example.com/no-data owner=<@UOWEN|owen>"
        say(bot, f"subscribe assay {assay} <#{ALERTS}|a> {runbook}")
        bot.poll_once()
        bot.clock.advance(DAY / 2)  # a result is not due yet
        bot.poll_once()
        assert posts(bot.slack) == []

        bot.clock.advance(2 * DAY)  # two windows without a result (Wallaroo's clock stays)
        (opening,) = wait_until(lambda: openings(bot.slack))
        text = json.dumps(opening, ensure_ascii=False)
        assert "No data: assay “example assay” has produced no new result" in text
        assert "Expected every" in text and "1 d" in text and "drift" not in text.lower()
        assert "alert_ack" in text and "alert_disable_assay" in text
        assert "https://wiki.example.com/no-data" in text and "<@UOWEN>" in text
        bot.poll_once()
        bot.poll_once()
        assert len(openings(bot.slack)) == 1  # one episode, not one per poll

        next_day(drift)  # results again (the first drifted day)
        (recovery,) = wait_until(lambda: thread(bot.slack))  # no reminder: opened just now
        assert "answers results again" in json.dumps(recovery)
        assert recovery["thread_ts"] == bot.slack.posted_ts[0]
        wait_until(lambda: "Recovered at" in last_edit(bot.slack))
        # The result that ended the silence is handled as any: here, a drift episode.
        drifted = wait_until(lambda: openings(bot.slack)[1:])
        assert "Alert: drift on assay" in json.dumps(drifted[0], ensure_ascii=False)


def test_an_unreadable_deployment_opens_one_no_data_episode_and_recovers(
    drift: Emulator, tmp_path: Path
) -> None:
    status = {"path_prefix": "/v1/api/status/get_deployment", "error_rate": 1.0, "status": 500}
    # Polls driven by the test (the scheduler's come every 5 s): N polls are N poll_once.
    settings = {**FAST, "chatops_poll_seconds": 5.0}
    with running_bot(drift, tmp_path, **settings) as bot:
        assert bot.clock is not None
        say(bot, f"watch housepricedrift housepricepipe <#{ALERTS}|a>")
        bot.poll_once()
        drift.control("faults", status)
        try:
            bot.poll_once()  # one failed status: a blip, nothing said
            assert posts(bot.slack) == []
            bot.clock.advance(5)
            bot.poll_once()  # two
            assert posts(bot.slack) == []
            bot.clock.advance(5)
            bot.poll_once()  # three polls without a status: no data
            (opening,) = openings(bot.slack)
            text = json.dumps(opening)
            assert "No data: the status of deployment housepricepipe cannot be read" in text
            assert "status/get_deployment" in text and "unreachable" not in text.lower()
            assert "alert_ack" in text and "alert_run_assay" not in text
            bot.clock.advance(5)
            bot.poll_once()
            assert len(openings(bot.slack)) == 1
        finally:
            drift.http.delete(f"{drift.url}/emulator/faults")
        bot.poll_once()  # a status again: Running
        (recovery,) = thread(bot.slack)
        assert "answers a status again" in json.dumps(recovery)
        assert "Recovered at" in last_edit(bot.slack)
        bot.poll_once()
        assert len(openings(bot.slack)) == 1  # Running: nothing more to say

"""What a quiet poll costs Wallaroo, counted by the emulator (its `/emulator/requests`), on
both API modes: a disabled subscribed assay is asked about its schedule once after a restart,
then costs its one results call a poll; a silent one, its "no data" episode open, costs no
listing when asked again (the episode is read first), an undeployed one its listing once a
quarter window; a deployment seen Starting costs its listing and its status, and the
alert's remedy (2 more calls) is asked for only when an alert opens.
The scheduler's own polls come every 10 min here: N polls are the test's N `poll_once`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from emulator.seed import DAY_MS, PIPELINE
from tests.helpers.alert_flows import ALERTS, FAST, demo_assay, openings, say
from tests.helpers.alert_flows import drift as drift
from tests.helpers.approval_flows import STARTUP_SECONDS
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.release_story import undeploy
from tests.helpers.slack_bot import Bot, running_bot
from tests.helpers.version_flows import deploy_directly, new_version

api_mode = both_api_modes
DAY = DAY_MS / 1000
QUIET = {**FAST, "chatops_poll_seconds": 600.0}
LISTING = "/v1/api/pipelines/list_pipelines"
STATUS = "/v1/api/status/get_deployment"
VERSIONS = "/v1/api/pipelines/list_pipeline_versions"


def counts(emulator: Emulator) -> Counter[str]:
    response = emulator.http.get(f"{emulator.url}/emulator/requests")
    response.raise_for_status()
    return Counter(response.json()["counts"])


def calls_of_a_poll(emulator: Emulator, bot: Bot) -> dict[str, int]:
    """The emulator's calls, by path, that one poll of `bot` made."""
    before = counts(emulator)
    bot.poll_once()
    return dict(counts(emulator) - before)


@pytest.mark.parametrize(
    ("api_mode", "generation", "results"),
    [
        ("current", "v1", "/v1/api/assays/get_assay_results"),
        ("current", "v2", "/v2/api/assays/get_results"),
        ("seed", "v1", "/v1/api/assays/get_results"),  # the 2022 API's name
    ],
)
def test_a_disabled_assay_costs_one_call_a_quiet_poll_after_a_restart(
    drift: Emulator, tmp_path: Path, generation: str, results: str
) -> None:
    assay = demo_assay(drift, generation)
    with running_bot(drift, tmp_path, **QUIET) as bot:
        say(bot, f"subscribe assay {assay} <#{ALERTS}|a>")
        bot.poll_once()  # its results seen: the cursor the silence check goes by
        assert "now inactive" in say(bot, f"assay disable {assay}")
        clock = bot.clock
    assert clock is not None
    clock.advance(3 * DAY)  # three windows without a result: silent, were it active
    # A restart: the new process remembers no assay's width nor when it last asked.
    with running_bot(drift, tmp_path, clock=clock, **QUIET) as bot:
        first = calls_of_a_poll(drift, bot)
        assert sum(first.values()) > 1, first  # it asked Wallaroo about the schedule, once
        polls = []
        for _ in range(3):
            clock.advance(60)
            polls.append(calls_of_a_poll(drift, bot))
        assert polls == [{results: 1}] * 3
        assert openings(bot.slack) == []  # inactive: not silent


GENERATIONS = pytest.mark.parametrize(
    ("api_mode", "generation", "results"),
    [
        ("current", "v1", "/v1/api/assays/get_assay_results"),
        ("current", "v2", "/v2/api/assays/get_results"),
        ("seed", "v1", "/v1/api/assays/get_results"),
    ],
)
# Asking about a silent assay's schedule, beside the poll's own results call: its results
# since the cursor again and the assay list (v1), or the assay and its next run (v2).
SCHEDULE = {
    "v1": {"/v1/api/assays/list": 1},
    "v2": {"/v2/api/assays/get/:id": 1, "/v2/api/assays/get_next_run": 1},
}


def asking(generation: str, results: str) -> dict[str, int]:
    """What one poll that asks about a silent assay's schedule costs."""
    return {results: 2 if generation == "v1" else 1, **SCHEDULE[generation]}


def asked_polls(emulator: Emulator, bot: Bot) -> list[dict[str, int]]:
    """Three polls a quarter window apart (a daily assay's): each asks about the schedule."""
    assert bot.clock is not None
    polls = []
    for _ in range(3):
        bot.clock.advance(DAY / 4)
        polls.append(calls_of_a_poll(emulator, bot))
    return polls


@GENERATIONS
def test_a_silent_assay_whose_episode_is_open_costs_no_listing(
    drift: Emulator, tmp_path: Path, generation: str, results: str
) -> None:
    assay = demo_assay(drift, generation)
    with running_bot(drift, tmp_path, **QUIET) as bot:
        assert bot.clock is not None
        say(bot, f"subscribe assay {assay} <#{ALERTS}|a>")
        bot.poll_once()  # its results seen: the cursor the silence check goes by
        bot.clock.advance(3 * DAY)
        bot.poll_once()  # silent: its "no data" episode opens
        assert ["No data" in json.dumps(o) for o in openings(bot.slack)] == [True]
        polls = asked_polls(drift, bot)
    assert polls == [asking(generation, results)] * 3  # no listing: the episode is open


@GENERATIONS
def test_an_undeployed_silent_assay_lists_its_pipeline_once_a_quarter_window(
    drift: Emulator, tmp_path: Path, generation: str, results: str
) -> None:
    assay = demo_assay(drift, generation)
    with running_bot(drift, tmp_path, **QUIET) as bot:
        assert bot.clock is not None
        say(bot, f"subscribe assay {assay} <#{ALERTS}|a>")
        bot.poll_once()
        undeploy(drift)
        bot.clock.advance(3 * DAY)
        bot.poll_once()  # silent, but nothing served: no episode
        polls = asked_polls(drift, bot)
        bot.clock.advance(60)
        between = calls_of_a_poll(drift, bot)  # asked lately: only its results
        assert openings(bot.slack) == []
    assert polls == [{**asking(generation, results), LISTING: 1}] * 3, polls
    assert between == {results: 1}


@pytest.fixture
def deploying(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """The drift demo, Running; a deployment started since stays Starting until the test
    moves the emulator's clock a minute on."""
    emulator = start_emulator(
        api=api_mode, seed_demo=True, deployment_startup_seconds=STARTUP_SECONDS
    )
    deploy_directly(emulator, PIPELINE, new_version(emulator, PIPELINE, []))
    return emulator


def test_a_direct_deploy_seen_starting_asks_for_no_remedy_until_its_alert_opens(
    deploying: Emulator, tmp_path: Path
) -> None:
    with running_bot(deploying, tmp_path, **QUIET) as bot:
        assert bot.clock is not None
        say(bot, f"watch housepricedrift {PIPELINE} <#{ALERTS}|a>")
        bot.poll_once()  # Running
        created = new_version(deploying, PIPELINE, [])
        body = {"deploy_id": PIPELINE, "pipeline_id": created["pipeline_pk_id"]}
        version = {"pipeline_version_pk_id": created["pipeline_variant_pk_id"]}
        deploying.admin().ok("pipelines/deploy", body | version)  # as Wallaroo's SDK would
        assert calls_of_a_poll(deploying, bot) == {LISTING: 1, STATUS: 1}  # Starting: news
        assert calls_of_a_poll(deploying, bot) == {LISTING: 1, STATUS: 1}
        assert openings(bot.slack) == []
        bot.clock.advance(600)  # CHATOPS_STARTING_ALERT_SECONDS: Starting for too long
        opened = calls_of_a_poll(deploying, bot)
        (opening,) = openings(bot.slack)
        text = json.dumps(opening)
        assert "housepricepipe" in text and "Starting" in text
        assert "alert_undeploy" in text and "alert_rollback" in text  # the remedy, asked now
        assert opened == {LISTING: 2, STATUS: 1, VERSIONS: 1}

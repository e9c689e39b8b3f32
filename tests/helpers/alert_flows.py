"""What the alerting tests share: the alerts channel and fast polling settings, a drift demo
of each test's own (its clock moved by the test), `say` as an admin over signed HTTP, the
alerts channel's posts, openings, thread replies and edits as the fake Slack recorded them,
and days moved on, flooded with undrifted records, or watched by more assays."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from emulator.inference_logs import LogColumns
from emulator.seed import DAY_MS, DAYS_BEFORE, FEATURES, MODEL, PIPELINE, assay_request
from tests.helpers.emulators import Emulator
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.slack_bot import Bot

ALERTS = "CALERTS"
FAST = {"chatops_poll_seconds": 0.2, "chatops_channel_pacing_seconds": 0.05}


@pytest.fixture
def drift(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """A drift demo of its own: the tests move its clock."""
    return start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


def demo_assay(drift: Emulator, generation: str = "v1") -> str:
    """How a user names the demo's drifting assay: v1's integer id, or a prefix of its v2
    twin's UUID (today's Wallaroo only)."""
    assert drift.demo is not None
    return str(drift.demo["assay_id"]) if generation == "v1" else drift.demo["assay_v2_id"][:6]


def say(bot: Bot, text: str) -> str:
    response, key = bot.command(text, "UADMIN")
    assert response.status_code == 200
    return json.dumps(bot.reply_to(key))


def posts(slack: FakeSlack, channel: str = ALERTS) -> list[dict]:
    return [b for b in slack.api_calls("chat.postMessage") if b.get("channel") == channel]


def openings(slack: FakeSlack) -> list[dict]:
    return [b for b in posts(slack) if not b.get("thread_ts")]


def thread(slack: FakeSlack) -> list[dict]:
    return [b for b in posts(slack) if b.get("thread_ts")]


def edits(slack: FakeSlack) -> list[dict]:
    return [b for b in slack.api_calls("chat.update") if b.get("channel") == ALERTS]


def last_edit(slack: FakeSlack) -> str:
    found = edits(slack)
    return json.dumps(found[-1]) if found else ""


def next_day(drift: Emulator) -> None:
    drift.control("clock", {"advance_seconds": DAY_MS / 1000})


def undrifted_day(drift: Emulator, day_start_ms: int, records: int = 60_000) -> None:
    """Flood one day with undrifted records, so its window scores Ok again."""
    rng = np.random.default_rng(7)
    log = drift.state.logs.pipeline(PIPELINE)
    (code,) = set(log.columns().model_codes.tolist())
    times = np.sort(day_start_ms + rng.integers(0, DAY_MS, records)).astype(np.int64)
    log.append(
        LogColumns(
            times,
            rng.normal(size=(records, FEATURES)),
            [np.zeros((records, 1))],
            np.full(records, 100_000, np.int64),
            np.full(records, code, np.int32),
        )
    )


def more_assays(drift: Emulator, count: int) -> list[int]:
    """`count` more daily assays of the demo pipeline, on the demo's baseline day: they drift
    when the demo's does."""
    assert drift.demo is not None
    first_day = drift.demo["drift_starts_ms"] - DAYS_BEFORE * DAY_MS
    ids = []
    for n in range(count):
        body = assay_request(
            name=f"storm {n}",
            workspace_id=drift.demo["workspace_id"],
            pipeline_id=drift.demo["pipeline_id"],
            pipeline=PIPELINE,
            model=MODEL,
            baseline_start_ms=first_day,
            baseline_end_ms=first_day + DAY_MS,
        )
        ids.append(drift.admin().ok("assays/create", body)["assay_id"])
    return ids

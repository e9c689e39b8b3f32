"""An assay episode closes "remediated" only when the Ok window came mostly after its rollback
took effect, on Wallaroo's clock: the emulator's answers carry its clock's `Date`, the bot's
Wallaroo client estimates Wallaroo's time from it, and the time a rollback succeeded is kept
on that clock. A rollback made late in the window that comes back Ok did not cause the
recovery: the episode closes plainly recovered and says so. Both API modes, the emulator over
real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from bot.settings import Settings
from bot.wallaroo import build_http_client, build_wallaroo_client
from emulator.seed import DAY_MS
from handlers.alerting.episodes import TOOK_EFFECT
from tests.helpers.alert_flows import undrifted_day
from tests.helpers.console_scripts import GRANTS, run_console
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.release_story import advance
from tests.helpers.remediation_flows import ROLLED_BACK, episodes_in
from tests.helpers.remediation_flows import newer_live as newer_live

api_mode = both_api_modes
HOUR_MS = 3_600_000
# Where in its day window the late rollback lands: three quarters of the window before it.
LATE_INTO_DAY_MS = 18 * HOUR_MS


def emulator_date(emulator: Emulator) -> datetime:
    response = httpx.post(f"{emulator.url}/v1/api/status/get_deployment", json={})
    return parsedate_to_datetime(response.headers["date"])


def test_the_emulators_date_follows_its_clock(newer_live: Emulator) -> None:
    before = emulator_date(newer_live)
    advance(newer_live, 3 * 86400)
    moved = (emulator_date(newer_live) - before).total_seconds()
    assert 3 * 86400 <= moved < 3 * 86400 + 60
    clock = datetime.fromtimestamp(newer_live.state.clock.now(), UTC)
    assert abs((emulator_date(newer_live) - clock).total_seconds()) < 2


def test_the_client_estimates_wallaroos_clock_from_its_answers(
    newer_live: Emulator, tmp_path: Path
) -> None:
    settings: Settings = newer_live.bot_settings(tmp_path)

    async def now_seen(moved_by: float) -> float:
        async with build_http_client() as http:
            client = build_wallaroo_client(settings, http)
            assert abs((client.wallaroo_now() - datetime.now(UTC)).total_seconds()) < 1
            advance(newer_live, moved_by)
            await client.list_workspaces()
            return (client.wallaroo_now() - datetime.now(UTC)).total_seconds()

    ahead = asyncio.run(now_seen(2 * 86400))
    expected = newer_live.state.clock.now() - datetime.now(UTC).timestamp()
    assert abs(ahead - expected) < 2 and ahead > 2 * 86400 - 2


@pytest.fixture
def release(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_emulator(
        api=api_mode, seed_demo=True, demo_story="bad-release", deployment_startup_seconds=5
    )


def test_a_rollback_right_after_the_alert_is_credited_for_the_next_window(
    release: Emulator, tmp_path: Path
) -> None:
    """The release story: day windows from the release, the rollback just after the first
    bad day's alert, so the next window is (almost) wholly the rolled-back version's."""
    assert release.demo is not None
    alert_at = release.demo["release_ms"] + DAY_MS  # on the emulator's clock
    script = [*GRANTS, "subscribe assay 1", ":advance 1d", *ROLLED_BACK, ":advance 1d"]
    out = run_console(release, tmp_path, script)
    (episode,) = episodes_in(tmp_path)
    detail = json.loads(episode.detail)
    took = datetime.fromisoformat(detail[TOOK_EFFECT]["at"]).timestamp() * 1000
    assert alert_at <= took < alert_at + 5 * 60_000  # Wallaroo's time, a day past the bot's
    closed = out.rsplit("$ :advance 1d\n", 1)[1]
    assert "Remediated: rolled back to version 1" in closed and "remediated" in detail
    assert "Assay price assay: remediated (" in closed


def test_a_rollback_late_in_the_ok_window_closes_recovered_not_remediated(
    newer_live: Emulator, tmp_path: Path
) -> None:
    """The alert's day is the first drifted one (midnight-aligned windows); the rollback is
    approved 18 h into the day that comes back Ok (the next, or the one after when the test
    runs too late in the day to reach 18 h of it), so most of that window was served before."""
    demo = newer_live.demo
    assert demo is not None
    alert_at = newer_live.state.clock.now_ms() + DAY_MS  # after the script's `:advance 1d`
    late = demo["drift_starts_ms"] + DAY_MS + LATE_INTO_DAY_MS
    if late - alert_at < HOUR_MS:
        late += DAY_MS  # the next day drifts still; the one after is Ok
    ok_day = late - LATE_INTO_DAY_MS
    undrifted_day(newer_live, ok_day)
    wait = (late - alert_at) // 1000
    script = [*GRANTS, "subscribe assay 1", ":advance 1d", f":advance {wait}", *ROLLED_BACK]
    out = run_console(newer_live, tmp_path, [*script, ":advance 1d"])
    (episode,) = episodes_in(tmp_path)
    detail = json.loads(episode.detail)
    took = datetime.fromisoformat(detail[TOOK_EFFECT]["at"]).timestamp() * 1000
    assert detail[TOOK_EFFECT]["request"] == 1
    assert late <= took < late + 5 * 60_000  # on the emulator's clock, not the bot's
    closed = out.rsplit("$ :advance 1d\n", 1)[1]
    assert "Back to Ok" in closed
    assert "It recovered before the rollback of request #1 took effect" in closed, closed
    assert "Remediated" not in closed and "remediated" not in detail
    assert "Assay example assay: recovered (" in closed
    assert "Running on version 1" in closed  # the alert's line still shows the rollback
    assert not episode.is_open

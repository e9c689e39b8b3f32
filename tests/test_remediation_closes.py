"""An episode closed for a reason other than its recovery is not "remediated", even when its
linked rollback succeeded: the assay still drifts, and unsubscribing from it or disabling it
ends the alert without putting anything right. (A recovery after the rollback does say
"remediated": test_remediation.py.) Both API modes, through the demo's console."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlmodel import select

from storage.alerts import AlertEpisode
from storage.database import make_engine, session_factory
from tests.helpers.console_scripts import GRANTS, answer_to
from tests.helpers.emulators import Emulator
from tests.test_remediation import api_mode as api_mode
from tests.test_remediation import drift as drift
from tests.test_remediation import requests_in, run_script


def episodes_in(db_dir: Path) -> list[AlertEpisode]:
    async def read() -> list[AlertEpisode]:
        engine = make_engine(f"sqlite:///{db_dir}/chatops.db")
        try:
            async with session_factory(engine)() as session:
                return list(await session.exec(select(AlertEpisode)))
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.mark.parametrize(
    ("command", "reason"),
    [("unsubscribe assay 1", "No longer subscribed"), ("assay disable 1", "Assay disabled")],
)
def test_an_episode_closed_for_a_reason_after_its_rollback_is_not_remediated(
    drift: Emulator, tmp_path: Path, command: str, reason: str
) -> None:
    rolled_back = [":advance 1d", ":as alice", ":click 6", ":as bob", ":click 8"]  # still drifts
    run_script(drift, tmp_path, [*GRANTS, "subscribe assay 1", *rolled_back, ":advance 10"])
    (request,) = requests_in(tmp_path)
    assert (request.action, request.episode_id, request.state) == ("rollback", 1, "succeeded")

    later = run_script(drift, tmp_path, [":advance 0", command, ":advance 0"])
    after_it = later.split(f"$ {command}\n", 1)[1]
    closing = answer_to(after_it, ":advance 0")  # the poll delivers the close
    assert f"{reason}; this episode is closed." in closing, later
    assert "Assay example assay: closed (" in closing
    assert "emediated" not in after_it
    (episode,) = episodes_in(tmp_path)
    detail = json.loads(episode.detail)
    assert detail["closed_reason"] == reason and "remediated" not in detail

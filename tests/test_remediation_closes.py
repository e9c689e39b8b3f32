"""An episode closed for a reason other than its recovery is not "remediated", even when its
linked rollback succeeded: the assay still drifts, and unsubscribing from it or disabling it
ends the alert without putting anything right. (A recovery after the rollback does say
"remediated": test_remediation.py.) Both API modes, through the demo's console."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.console_scripts import GRANTS, answer_to, run_console
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.remediation_flows import episodes_in, requests_in
from tests.helpers.remediation_flows import newer_model_live as newer_model_live

api_mode = both_api_modes


@pytest.fixture
def drift(newer_model_live: Emulator) -> Emulator:
    """The drift demo whose deployment runs a newer version of the demo's model."""
    return newer_model_live


@pytest.mark.parametrize(
    ("command", "reason"),
    [("unsubscribe assay 1", "No longer subscribed"), ("assay disable 1", "Assay disabled")],
)
def test_an_episode_closed_for_a_reason_after_its_rollback_is_not_remediated(
    drift: Emulator, tmp_path: Path, command: str, reason: str
) -> None:
    rolled_back = [":advance 1d", ":as alice", ":click 6", ":as bob", ":click 8"]  # still drifts
    run_console(drift, tmp_path, [*GRANTS, "subscribe assay 1", *rolled_back, ":advance 10"])
    (request,) = requests_in(tmp_path)
    assert (request.action, request.episode_id, request.state) == ("rollback", 1, "succeeded")

    later = run_console(drift, tmp_path, [":advance 0", command, ":advance 0"])
    after_it = later.split(f"$ {command}\n", 1)[1]
    closing = answer_to(after_it, ":advance 0")  # the poll delivers the close
    assert f"{reason}; this episode is closed." in closing, later
    assert "Assay example assay: closed (" in closing
    assert "emediated" not in after_it
    (episode,) = episodes_in(tmp_path)
    detail = json.loads(episode.detail)
    assert detail["closed_reason"] == reason and "remediated" not in detail

"""The demo's bad-release story (#15's last "Done when"): on both API modes, the price assay
alerts the day after version 2 (a units bug) is deployed and is Ok the first whole day after a
rollback, while the input assay stays Ok; and README's remediation line, piped into the demo's
console, walks drift → roll back → approve → remediated (so README stays true), in this
process and as `wallaroo-chatops demo` itself."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from emulator.cli import add_emulator_parser, emulator_config
from emulator.seed import DAY_MS, PIPELINE
from tests.helpers.console_scripts import answer_to, clicks, run_console
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.release_story import (
    advance,
    deploy_version,
    ids,
    statuses,
    v2_statuses,
)
from tests.helpers.version_flows import live_version

api_mode = both_api_modes
DEPLOY_CALLS = "/v1/api/pipelines/deploy"
README = Path(__file__).parent.parent / "README.md"


@pytest.fixture
def release(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_emulator(
        api=api_mode, seed_demo=True, demo_story="bad-release", deployment_startup_seconds=5
    )


def both_generations(emulator: Emulator, key: str) -> list[list[str]]:
    """The statuses of the demo's assay `key` ("assay", "price_assay"), and of its v2 twin in
    today's mode."""
    demo = ids(emulator)
    found = [statuses(emulator, demo[f"{key}_id"])]
    if emulator.config.api == "current":
        found.append(v2_statuses(emulator, demo[f"{key}_v2_id"]))
    return found


def test_the_price_assay_alerts_after_the_release_and_recovers_after_a_rollback(
    release: Emulator,
) -> None:
    assert all(s == ["Ok"] * 29 for s in both_generations(release, "price_assay"))
    advance(release, DAY_MS / 1000)
    assert all(s == ["Ok"] * 29 + ["Alert"] for s in both_generations(release, "price_assay"))
    deploy_version(release, ids(release)["first_version_pk_id"])
    advance(release, DAY_MS / 1000)
    for found in both_generations(release, "price_assay"):
        assert found == ["Ok"] * 29 + ["Alert", "Ok"]
    # Inputs steady throughout: the input assay never moved, so the release is to blame.
    assert all(s == ["Ok"] * 31 for s in both_generations(release, "assay"))


def readme_walk() -> list[str]:
    """README's remediation line (the printf piping `:click 6` into the demo), as lines."""
    (line,) = [
        found
        for found in re.findall(
            r"^printf '(.*)' \| \.venv/bin/wallaroo-chatops demo$", README.read_text(), re.MULTILINE
        )
        if ":click 6" in found
    ]
    return line.replace("\\n", "\n").splitlines()


def check_walk(out: str) -> str:
    """What every run of README's walk prints; returns the version rolled back to (short)."""
    alert = answer_to(out, ":advance 1d")
    assert "Alert: drift on assay “price assay”" in alert
    offered = re.search(r"\[6 Roll back to version 1 \(([0-9a-f]{8})\)\]  \[7 Undeploy\]", alert)
    assert offered is not None, alert
    short = offered.group(1)
    asked = answer_to(out, ":click 6")
    assert "Reason: From alert #1: Assay price assay: Alert" in asked
    assert "[8 Approve]  [9 Reject]" in asked
    assert "someone else must decide it (four-eyes)" in answer_to(out, ":click 8")
    lead = out.split("$ :as UDEMOLEAD\n", 1)[1]
    assert "Approved request #1" in answer_to(lead, ":click 8")
    # `:advance 10` passes the start-up and waits for the rollback: done before its poll.
    rolled = answer_to(lead, ":advance 10")
    assert "housepricepipe is rolled back. The deployment is Running." in rolled
    assert f"· Running on version 1 ({short}) (request #1, requested by UDEMOADMIN" in rolled
    closed = lead.rsplit("$ :advance 1d\n", 1)[1]
    assert "✅ Back to Ok (score" in closed
    assert (
        f"✅ Remediated: rolled back to version 1 (`{short}`) by request #1 (requested by "
        "@UDEMOADMIN, approved by @UDEMOLEAD)"
    ) in closed
    assert "Assay price assay: remediated (" in closed
    return short


def test_readmes_walk_rolls_the_bad_release_back_and_closes_remediated(
    release: Emulator, tmp_path: Path
) -> None:
    deploys = release.calls_to(DEPLOY_CALLS)
    out = run_console(
        release, tmp_path, readme_walk(), "UDEMOADMIN", chatops_admins="UDEMOADMIN,UDEMOLEAD"
    )
    short = check_walk(out)
    assert release.calls_to(DEPLOY_CALLS) == deploys + 1  # the rollback's, once
    live = live_version(release, PIPELINE)
    assert live is not None and live.startswith(short)
    assert clicks(tmp_path, "[button] rollback episode 1") == [
        ("UDEMOADMIN", "[button] rollback episode 1", "intent"),
        ("UDEMOADMIN", "[button] rollback episode 1", "ok"),
    ]


def test_wallaroo_chatops_demo_walks_readmes_line() -> None:
    """The line piped into `wallaroo-chatops demo` itself, as README shows it (current mode)."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input="\n".join(readme_walk()) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "housepricepipe served its version 1 for 30 days and has just deployed its version 2"
        in result.stdout
    )
    check_walk(result.stdout)
    assert "Traceback" not in result.stderr


def test_the_emulator_command_takes_the_story() -> None:
    parser = argparse.ArgumentParser()
    add_emulator_parser(parser.add_subparsers(), argparse.HelpFormatter)
    chosen = emulator_config(parser.parse_args(["emulator", "--demo-story", "bad-release"]))
    assert chosen.demo_story == "bad-release"
    assert emulator_config(parser.parse_args(["emulator"])).demo_story == "input-drift"
    with pytest.raises(SystemExit):
        parser.parse_args(["emulator", "--demo-story", "happy"])

"""`:click N` at the console: the buttons of the messages it prints are numbered, and pressing
one runs the same handler as the button in Slack (role checks, four-eyes, audit rows). Scripts
are piped into the demo's console (in this process, over the emulator's real HTTP, both API
modes, so the emulator's request counts can be read), and once into `wallaroo-chatops demo`."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from storage.alerts import get_episode
from storage.database import make_engine, session_factory
from tests.helpers.console_scripts import GRANTS, answer_to, clicks, run_console
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.terminal import PROMPT, Terminal, last_line

DEPLOY_CALLS = "/v1/api/pipelines/deploy"
README = Path(__file__).parent.parent / "README.md"

api_mode = both_api_modes


@pytest.fixture
def drift(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """A fresh drift demo per test: the alert tests move its clock."""
    return start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=1.0)


def test_a_deploy_approved_by_click_runs_once_and_self_approval_is_refused(
    drift: Emulator, tmp_path: Path
) -> None:
    deploys = drift.calls_to(DEPLOY_CALLS)
    out = run_console(
        drift,
        tmp_path,
        [
            *GRANTS,
            ":as alice",
            "deploy housepricedrift housepricepipe retrain",
            ":click 1",
            ":as bob",
            ":click 1",
            ":advance 10",  # past the deployment's start-up on the emulator's clock
            ":click 2 too late",
        ],
    )
    request = answer_to(out, "deploy housepricedrift housepricepipe retrain")
    assert "[1 Approve]  [2 Reject]" in request
    assert "someone else must decide it (four-eyes)" in answer_to(out, ":click 1")
    bob = out.split("$ :as bob\n", 1)[1]
    assert "Approved request #1" in answer_to(bob, ":click 1")
    assert "housepricepipe is deployed" in out
    # The decided request was edited without its buttons: they cannot be pressed any more.
    assert "Button 2 (Reject) is gone: message 1.000000 in #console has since been edited" in (
        answer_to(out, ":click 2 too late")
    )
    assert drift.calls_to(DEPLOY_CALLS) == deploys + 1
    assert clicks(tmp_path, "[button] approve 1") == [
        ("alice", "[button] approve 1", "intent"),
        ("alice", "[button] approve 1", "refused"),
        ("bob", "[button] approve 1", "intent"),
        ("bob", "[button] approve 1", "ok"),
    ]


def test_reject_by_click_takes_its_reason_from_the_line(drift: Emulator, tmp_path: Path) -> None:
    deploys = drift.calls_to(DEPLOY_CALLS)
    out = run_console(
        drift,
        tmp_path,
        [
            *GRANTS,
            ":as alice",
            "deploy housepricedrift housepricepipe retrain",
            ":as bob",
            ":click 2",
            ":click 2 not this week",
        ],
    )
    assert "Nothing rejected: Reject needs a reason" in answer_to(out, ":click 2")
    assert "`:click 2 REASON`" in answer_to(out, ":click 2")
    assert "Rejected request #1" in answer_to(out, ":click 2 not this week")
    assert drift.calls_to(DEPLOY_CALLS) == deploys
    assert clicks(tmp_path, "[dialog] reject 1") == [
        ("bob", "[dialog] reject 1 not this week", "intent"),
        ("bob", "[dialog] reject 1 not this week", "ok"),
    ]


def test_an_alert_is_acknowledged_by_click_and_a_viewer_is_refused(
    drift: Emulator, tmp_path: Path
) -> None:
    out = run_console(
        drift,
        tmp_path,
        [
            *GRANTS,
            "subscribe assay 1",
            ":advance 1d",
            ":as viewer1",
            ":click 1",
            ":as alice",
            ":click 1",
            ":advance 60",  # delivers the edited alert
        ],
    )
    alert = answer_to(out, ":advance 1d")
    assert "Alert: drift on assay" in alert
    assert "[1 Acknowledge]  [2 Snooze 4 h]  [3 Snooze 24 h]  [4 Run assay now]" in alert
    viewer = out.split("$ :as viewer1\n", 1)[1]
    assert "acknowledged and snoozed by operators; you are viewer" in answer_to(viewer, ":click 1")
    alice = out.split("$ :as alice\n", 1)[1]
    assert "Acknowledged example assay" in answer_to(alice, ":click 1")
    # The edit keeps the buttons it still has under the numbers they had.
    edited = answer_to(alice, ":advance 60")
    assert "[message 1.000000 in #console, edited]" in edited
    assert "  [1 Acknowledge]  [2 Snooze 4 h]" in edited
    assert episode_acknowledged_by(tmp_path, 1) == "alice"
    assert clicks(tmp_path, "[button] acknowledge episode 1") == [
        ("viewer1", "[button] acknowledge episode 1", "refused"),
        ("alice", "[button] acknowledge episode 1", "intent"),
        ("alice", "[button] acknowledge episode 1", "ok"),
    ]


def episode_acknowledged_by(db_dir: Path, episode_id: int) -> str | None:
    async def read() -> str | None:
        engine = make_engine(f"sqlite:///{db_dir}/chatops.db")
        try:
            async with session_factory(engine)() as session:
                episode = await get_episode(session, episode_id)
                assert episode is not None
                return episode.acknowledged_by
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_unknown_buttons_and_bad_numbers_are_one_line_each(drift: Emulator, tmp_path: Path) -> None:
    out = run_console(
        drift,
        tmp_path,
        [
            ":click 1",
            ":click",
            ":click two",
            "deploy housepricedrift housepricepipe retrain",
            ":click 9",
            "help console",
        ],
    )
    assert answer_to(out, ":click 1").strip() == (
        "There is no button 1: no message shown so far has buttons."
    )
    usage = "Usage: :click N [REASON] (N is the number in a button's brackets, e.g. `[1 Approve]`)"
    assert answer_to(out, ":click").strip() == usage
    assert answer_to(out, ":click two").strip() == usage
    assert answer_to(out, ":click 9").strip() == (
        "There is no button 9: the buttons shown so far are numbered 1 to 2, in their brackets "
        "(`[1 Approve]`)."
    )
    assert "`:click N [REASON]` — press button N, as the current user" in out


def test_the_demo_bots_clock_follows_the_emulators(drift: Emulator, tmp_path: Path) -> None:
    """After `:advance 1d` a request expires an hour after the emulator's now, not the wall's."""
    out = run_console(drift, tmp_path, [":advance 1d", "deploy housepricedrift housepricepipe x"])
    moved = re.search(r"The emulator's clock is now (\S+ \S+) UTC", answer_to(out, ":advance 1d"))
    assert moved is not None, out
    now = datetime.strptime(moved.group(1), "%Y-%m-%d %H:%M")
    # The request is made a moment after the clock was shown: maybe in the next minute.
    due = {f"{now + timedelta(hours=1, minutes=m):%Y-%m-%d %H:%M} UTC" for m in (0, 1)}
    expires = re.search(r"Expires: (\S+ \S+ UTC) \((.*?)\)", out)
    assert expires is not None, out
    assert expires.group(1) in due and expires.group(2) in ("in 59 min", "in 1 h"), out


def test_the_demo_command_takes_clicks_from_a_pipe() -> None:
    """README's line `printf '…:click 1…:click 3\\n' | .venv/bin/wallaroo-chatops demo`, read from
    README (so the test follows it), piped into `wallaroo-chatops demo`."""
    (script,) = [
        found
        for found in re.findall(
            r"^printf '(.*)' \| \.venv/bin/wallaroo-chatops demo$", README.read_text(), re.MULTILINE
        )
        if ":click 1" in found and ":click 3" in found
    ]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input=script.replace("\\n", "\n"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[1 Approve]  [2 Reject]" in out
    assert "Approved request #1" in answer_to(out, ":click 1")
    assert "housepricepipe is deployed" in out
    assert "[3 Acknowledge]  [4 Snooze 4 h]" in out
    assert "Acknowledged price assay" in answer_to(out, ":click 3")  # the demo's assay 1
    assert "Traceback" not in result.stderr


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "TERM": "xterm-256color"}
    env.pop("TMUX", None)  # a tmux running these tests is not the one they start
    term = Terminal(f"chatops-clicks-{os.getpid()}-{tmp_path.name[-20:]}", env)
    try:
        yield term
    finally:
        subprocess.run([*term.base, "kill-server"], capture_output=True, env=env)


def test_at_a_terminal_reject_asks_for_its_reason(terminal: Terminal) -> None:
    terminal.start("demo")
    terminal.wait_for_start()
    for command in ["deploy housepricedrift housepricepipe retrain", ":as UDEMOLEAD"]:
        terminal.type(command)
        terminal.wait_for(lambda s, c=command: c in s and last_line(s) == PROMPT, command)
    terminal.type(":click 2")
    terminal.wait_for(lambda s: last_line(s) == "Why reject #1?", "the question for a reason")
    terminal.type("not this week")
    shown = terminal.wait_for(
        lambda s: "Rejected request #1" in s and last_line(s) == PROMPT, "the rejection"
    )
    assert "[1 Approve]  [2 Reject]" in shown
    terminal.type("quit")
    status, shown = terminal.wait_for_exit()
    assert status == 0 and "Traceback" not in shown


def test_a_rollback_request_is_approved_by_click(drift: Emulator, tmp_path: Path) -> None:
    """Any message's buttons are numbered: here a rollback request's, after a deploy's."""
    out = run_console(
        drift,
        tmp_path,
        [
            *GRANTS,
            "pipeline create housepricedrift housepricepipe",  # a second, model-less version
            ":as alice",
            "deploy housepricedrift housepricepipe newest",
            ":as bob",
            ":click 1",
            ":advance 10",
            "rollback housepricedrift housepricepipe",
            ":click 3",
            ":as alice",
            ":click 3",
        ],
    )
    bob = out.split("$ :as bob\n", 1)[1]
    assert "[3 Approve]  [4 Reject]" in answer_to(bob, "rollback housepricedrift housepricepipe")
    assert "someone else must decide it (four-eyes)" in answer_to(bob, ":click 3")
    alice = bob.split("$ :as alice\n", 1)[1]
    assert "Approved request #2" in answer_to(alice, ":click 3")
    assert "housepricepipe is rolled back" in out

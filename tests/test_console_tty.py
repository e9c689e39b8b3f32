"""The console at a real terminal (tmux, 120x40): Up recalls what was typed, in this run and the
next; Ctrl-C leaves at once and cleanly, at the prompt or mid-command; deploy progress arriving
while the prompt waits is printed above it and the prompt drawn again. And Ctrl-C (SIGINT) in a
piped console too."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.terminal import PROMPT, REPO, Terminal, last_line


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def console_env(state_dir: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state_dir), "TERM": "xterm-256color"}
    env.pop("TMUX", None)  # a tmux running these tests is not the one they start
    return env


@pytest.fixture
def terminal(console_env: dict[str, str], tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(f"chatops-{os.getpid()}-{tmp_path.name[-20:]}", console_env)
    try:
        yield term
    finally:
        subprocess.run([*term.base, "kill-server"], capture_output=True, env=console_env)


def test_history_between_runs_and_ctrl_c_at_the_prompt(terminal: Terminal, state_dir: Path) -> None:
    terminal.start("demo")
    terminal.wait_for_start()
    terminal.type("workspaces")
    terminal.wait_for(lambda s: "housepricedrift" in s and last_line(s) == PROMPT, "workspaces")
    terminal.keys("Up")  # the line editor recalls it, rather than printing ^[[A
    terminal.wait_for_prompt("workspaces", timeout=10)
    terminal.keys("C-c")
    status, shown = terminal.wait_for_exit(timeout=10)
    assert status == 130
    assert "Interrupted: left the console." in shown
    assert "Traceback" not in shown and "KeyboardInterrupt" not in shown
    history = state_dir / "wallaroo-chatops" / "history"
    assert "+workspaces" in history.read_text()
    assert history.stat().st_mode & 0o777 == 0o600  # what was typed is the owner's alone

    terminal.start("demo")  # a new run remembers the last one's commands
    terminal.wait_for_start()
    terminal.keys("Up")
    terminal.wait_for_prompt("workspaces", timeout=10)
    terminal.keys("C-u", "C-d")  # an empty line's Ctrl-D: the end of input, as before
    status, shown = terminal.wait_for_exit()
    assert status == 0 and "Traceback" not in shown


def hanging_wallaroo() -> socket.socket:
    """A Wallaroo that takes connections and never answers: every command waits."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    return server


def hanging_console_env(env: dict[str, str], server: socket.socket, db: Path) -> dict[str, str]:
    env = {**env, "WALLAROO_URL": f"http://127.0.0.1:{server.getsockname()[1]}"}
    env |= {"WALLAROO_CLIENT_SECRET": "secret", "DATABASE_URL": f"sqlite:///{db}"}
    for name in ("WALLAROO_API_URL", "WALLAROO_TOKEN_URL", "WALLAROO_USERNAME", "CHATOPS_ADMINS"):
        env.pop(name, None)
    return env


def test_ctrl_c_during_a_slow_command_leaves_at_once(
    console_env: dict[str, str], tmp_path: Path
) -> None:
    with hanging_wallaroo() as server:
        env = hanging_console_env(console_env, server, tmp_path / "console.db")
        terminal = Terminal(f"chatops-slow-{os.getpid()}", env)
        try:
            terminal.start("console")
            terminal.wait_for_start()
            terminal.type("workspaces")
            # The command is under way: no answer, no new prompt (the client waits up to 10 s).
            terminal.wait_for_prompt("workspaces", timeout=10)
            terminal.keys("C-c")
            status, shown = terminal.wait_for_exit(timeout=10)
        finally:
            subprocess.run([*terminal.base, "kill-server"], capture_output=True, env=env)
    assert status == 130
    after = shown.split(f"{PROMPT} workspaces", 1)[1]
    assert "Interrupted: left the console." in after
    assert "Wallaroo" not in after  # no answer (nor error) came before leaving
    assert "Traceback" not in shown


def test_progress_arriving_while_the_prompt_waits_prints_above_it(terminal: Terminal) -> None:
    terminal.start("demo")
    terminal.wait_for_start()
    typed = ["undeploy housepricedrift housepricepipe tidy up", ":as UDEMOLEAD", "approve 1"]
    for command in typed:
        terminal.type(command)
        terminal.wait_for(lambda s, c=command: c in s and last_line(s) == PROMPT, command)
    # The undeploy is followed in the background: its edits and outcome come after the
    # approval's answer, while the prompt waits.
    shown = terminal.wait_for(
        lambda s: "housepricepipe is undeployed" in s and last_line(s) == PROMPT,
        "the undeploy's outcome with the prompt below it",
    )
    lines = [line.rstrip() for line in shown.splitlines() if line.strip()]
    assert lines[-1] == PROMPT
    approved = next(i for i, line in enumerate(lines) if "Approved request #1" in line)
    outcome = next(i for i, line in enumerate(lines) if "housepricepipe is undeployed" in line)
    assert approved < outcome
    # Each prompt line holds what was typed at it, never a message printed over it.
    prompts = [line for line in lines if line.startswith(PROMPT)]
    assert prompts == [f"{PROMPT} {command}" for command in typed] + [PROMPT]
    terminal.type("quit")
    status, shown = terminal.wait_for_exit()
    assert status == 0 and "Traceback" not in shown


def test_sigint_during_a_piped_command_leaves_at_once(
    console_env: dict[str, str], tmp_path: Path
) -> None:
    """Without a terminal (a script, CI) Ctrl-C is a SIGINT; stdin stays open, so leaving must
    not wait for another line either."""
    with hanging_wallaroo() as server:
        env = hanging_console_env(console_env, server, tmp_path / "console.db")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "console"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("workspaces\n")
        process.stdin.flush()
        while "$ workspaces" not in process.stdout.readline():  # the command has started
            assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 130
    assert out.strip().splitlines() == ["Interrupted: left the console."]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert not (tmp_path / "state").exists()  # piped lines are never kept as history


def test_a_history_file_others_could_read_is_made_the_owners(tmp_path: Path) -> None:
    from bot.adapters.console_input import EditedLines

    path = tmp_path / "state" / "wallaroo-chatops" / "history"
    path.parent.mkdir(parents=True)
    path.write_text("\n+access grant @jane admin\n")
    path.chmod(0o644)
    EditedLines(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert "access grant" in path.read_text()  # kept, only closed to others

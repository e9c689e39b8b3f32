"""The console at a real terminal: a private tmux server (120x40) running `wallaroo-chatops`
commands, what its window shows, keys typed into it, and waits for the prompt, the banner and
the exit status."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROMPT = "wallaroo>"
BANNER_START = "Acting as "


def _tmux() -> str:
    found = shutil.which("tmux")
    if found is None:
        pytest.fail("tmux is not installed: run `bash .ci/install-tools` (see README)")
    return found


class Terminal:
    """A private tmux server (its own socket, no user config) running one command at a time."""

    def __init__(self, socket_name: str, env: dict[str, str]) -> None:
        self.base = [_tmux(), "-L", socket_name, "-f", os.devnull]
        self.env = env
        self.runs = 0

    def tmux(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, env=self.env)
        if done.returncode != 0:
            pytest.fail(f"tmux {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, *command: str) -> None:
        """Run `wallaroo-chatops COMMAND` in a new window; its exit status is printed after."""
        self.runs += 1
        line = shlex.join([sys.executable, "-m", "bot", *command])
        shell = f"{line}; echo EXIT=$?; sleep 600"
        size = ["-x", "120", "-y", "40"]
        self.tmux("new-session", "-d", "-s", f"run{self.runs}", *size, "-c", str(REPO), shell)

    def screen(self) -> str:
        """What the window shows, wrapped lines joined, scrolled-off lines included."""
        return self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", f"run{self.runs}")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", f"run{self.runs}", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", f"run{self.runs}", "-l", text)
        self.keys("Enter")

    def wait_for(self, check: Callable[[str], bool], what: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if check(shown):
                return shown
            if time.monotonic() > deadline:
                pytest.fail(f"the terminal never showed {what}; it shows:\n{shown}")
            time.sleep(0.1)

    def wait_for_prompt(self, typed: str = "", timeout: float = 60) -> str:
        """Until the last line shown is the prompt (with `typed` in it)."""
        wanted = f"{PROMPT} {typed}".rstrip()
        return self.wait_for(lambda s: last_line(s) == wanted, f"`{wanted}` last", timeout)

    def wait_for_start(self, timeout: float = 60) -> str:
        """Until the console has greeted (its banner is the last thing it prints at start, and
        reaches the screen through the line editor a moment later) and waits at the prompt:
        what is typed from then on follows all of the start-up's lines."""
        return self.wait_for(
            lambda s: BANNER_START in s and last_line(s) == PROMPT,
            "the banner, then the prompt",
            timeout,
        )

    def wait_for_exit(self, timeout: float = 30) -> tuple[int, str]:
        shown = self.wait_for(lambda s: "EXIT=" in s, "the console's exit", timeout)
        return int(shown.split("EXIT=")[1].split()[0]), shown


def last_line(shown: str) -> str:
    lines = [line.rstrip() for line in shown.splitlines() if line.strip()]
    return lines[-1] if lines else ""

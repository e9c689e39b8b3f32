"""Where the console's lines come from, and how Ctrl-C ends it.

At a terminal, prompt_toolkit edits the line and keeps a history between runs; anything else
(a pipe, a file, the tests) is read one plain line at a time, as a script expects. Ctrl-C ends
the console at once wherever it waits: at the prompt (a key there, as the editor reads raw
keys) or in a slow command (a SIGINT then).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType
from typing import Protocol, TextIO, TypeVar

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory, History, InMemoryHistory

PROMPT = "wallaroo> "
T = TypeVar("T")


class Interrupted(Exception):
    """Ctrl-C: the console stops what it waits for and ends."""


class Lines(Protocol):
    async def read(self, prompt: str | None = None) -> str | None:
        """The next line typed, or None at the end of input (Ctrl-D, the end of a pipe); at a
        terminal `prompt` (a question, say) is shown in the usual prompt's place."""
        ...


def history_path() -> Path:
    """The history file, in the user's state directory (XDG), never in the repository."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "wallaroo-chatops" / "history"


class EditedLines:
    """A terminal's lines through prompt_toolkit: arrows, editing keys, Up for history."""

    def __init__(self, history_file: Path | None = None) -> None:
        self.session: PromptSession[str] = PromptSession(history=_history(history_file))

    async def read(self, prompt: str | None = None) -> str | None:
        try:
            # The editor reads Ctrl-C as a key; SIGINT (kill -INT) is CtrlC's to handle.
            return await self.session.prompt_async(prompt or PROMPT, handle_sigint=False)
        except EOFError:
            return None
        except KeyboardInterrupt:
            raise Interrupted from None


def _history(path: Path | None) -> History:
    if path is None:
        return InMemoryHistory()
    try:
        # Typed commands may name people and carry secrets: the owner's alone (0600), and
        # an older file made readable to others is closed too.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        os.chmod(path, 0o600)
    except OSError:  # a read-only home: history for this run only, rather than no console
        return InMemoryHistory()
    return FileHistory(str(path))


class PlainLines:
    """One line at a time from a pipe or a file, or from a terminal with `input()` when the
    output is not a terminal too (no editor can draw there)."""

    def __init__(self, stdin: TextIO, prompt: str | None = None) -> None:
        self.stdin = stdin
        self.prompt = prompt

    async def read(self, prompt: str | None = None) -> str | None:
        return await _in_daemon_thread(functools.partial(self._read_blocking, prompt))

    def _read_blocking(self, prompt: str | None = None) -> str | None:
        if self.prompt is not None:
            try:
                return input(prompt or self.prompt)
            except EOFError:
                return None
        line = self.stdin.readline()
        return line if line else None


async def _in_daemon_thread(read: Callable[[], T]) -> T:
    """`read()` on a thread of its own that exit never waits for: a console left with Ctrl-C
    must not hang until one more line arrives (asyncio.to_thread's pool would)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def work() -> None:
        try:
            result = read()
            outcome = functools.partial(future.set_result, result)
        except BaseException as exc:  # handed to the awaiting coroutine
            outcome = functools.partial(future.set_exception, exc)
        with contextlib.suppress(RuntimeError):  # the loop closed while this waited for input
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=work, name="console-input", daemon=True).start()
    return await future


class CtrlC:
    """SIGINT for the console's whole session: `guard` drops what it waits for and raises
    Interrupted. Outside a session (before, after) Python's own handling applies again."""

    def __init__(self) -> None:
        self.pressed = asyncio.Event()
        self._previous: Callable[[int, FrameType | None], object] | int | None = None
        self._installed = False

    def __enter__(self) -> CtrlC:
        self._previous = signal.getsignal(signal.SIGINT)
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self.pressed.set)
            self._installed = True
        except (NotImplementedError, RuntimeError, ValueError):
            # No loop signal handlers here (Windows, or not the main thread): Ctrl-C then raises
            # KeyboardInterrupt as usual, which bot/cli.py's main turns into one line and 130.
            self._installed = False
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
            # remove_signal_handler leaves Python's default; asyncio.run's own goes back.
            signal.signal(signal.SIGINT, self._previous)

    async def guard(self, awaitable: Awaitable[T]) -> T:
        if self.pressed.is_set():
            raise Interrupted
        task = asyncio.ensure_future(awaitable)
        pressed = asyncio.ensure_future(self.pressed.wait())
        try:
            await asyncio.wait({task, pressed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pressed.cancel()
            dropped = not task.done()
            if dropped:
                # Leaving at once cancels work mid-query: SQLAlchemy's pool would log each
                # cancelled connection reset with a traceback, about connections the process
                # throws away anyway.
                logging.getLogger("sqlalchemy.pool").disabled = True
                task.cancel()
                # A moment to unwind (close a request) before the services it uses close.
                await asyncio.wait({task}, timeout=2)
                if task.done() and not task.cancelled():
                    task.exception()  # retrieved: it ended as it unwound, nobody reads it
        if dropped:
            raise Interrupted
        return task.result()

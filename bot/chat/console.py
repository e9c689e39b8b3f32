"""`Chat` on the console's terminal: messages are printed, files saved."""

from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from bot.chat.console_buttons import ButtonBoard, MessageKey
from handlers.chat import FileUnavailable, Posted, SharedFile
from handlers.render.blocks import Reply, render_text


class ConsoleChat:
    """The console's stand-in for a channel: messages are printed, edits summed up in a line."""

    def __init__(
        self,
        stream: TextIO | None = None,
        emails: dict[str, str] | None = None,
        file_dir: Path | None = None,
    ) -> None:
        self._stream = stream
        self.emails = emails or {}
        self.file_dir = file_dir or Path(tempfile.gettempdir()) / "wallaroo-chatops"
        self._numbers = itertools.count(1)
        self._keys: dict[str, str] = {}
        self.buttons = ButtonBoard()  # what `:click N` presses

    @property
    def stream(self) -> TextIO:
        """Without a stream given, sys.stdout at each print: at a terminal the console's line
        editor replaces it with one that prints above the prompt and draws the prompt again."""
        return self._stream if self._stream is not None else sys.stdout

    async def post(
        self, channel: str, reply: Reply, *, thread_ts: str | None = None, key: str | None = None
    ) -> Posted:
        ts = f"{next(self._numbers)}.000000"
        if key is not None:
            self._keys[key] = ts
        where = f"{channel}, thread {thread_ts}" if thread_ts else channel
        self._print(f"[message {ts} in {where}]", reply, (channel, ts))
        return Posted(channel=channel, ts=ts)

    async def find_posted(
        self, channel: str, key: str, since: datetime, thread_ts: str | None = None
    ) -> Posted | None:
        ts = self._keys.get(key)
        return Posted(channel=channel, ts=ts) if ts else None

    async def update(self, channel: str, ts: str, reply: Reply) -> None:
        # A terminal cannot edit what it printed; one line saying what changed reads better
        # than the whole message again, and one more for the buttons its new version has.
        self.buttons.numbered(reply, (channel, ts))
        line = f"[message {ts} in {channel}, edited] {reply.text}"
        if buttons := self.buttons.buttons_line((channel, ts)):
            line += f"\n  {buttons}"
        print(f"{line}\n", file=self.stream, flush=True)

    async def post_ephemeral(self, channel: str, user_id: str, reply: Reply) -> None:
        self._print(f"[only {user_id} sees this, in {channel}]", reply)

    async def permalink(self, channel: str, ts: str) -> str | None:
        return None  # a terminal has no links; callers name the request instead

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str | None:
        return None  # no modals here: the console keeps the typed forms

    async def update_view(self, view_id: str, view: dict[str, Any]) -> None:
        return None

    async def shared_file(self, ref: str) -> SharedFile:
        """A local path: the console's `model upload` reads a file on this machine."""
        found = await asyncio.to_thread(_local_file, ref)
        if found is None:
            raise FileUnavailable(
                f"There is no file {ref} on this machine.", "Give the path of a model file."
            )
        path, size = found
        return SharedFile(id=str(path), name=path.name, size=size, source=str(path))

    async def read_file(self, file: SharedFile, chunk_bytes: int) -> AsyncIterator[bytes]:
        with open(file.source, "rb") as source:  # noqa: ASYNC230 (each read is in a thread)
            while chunk := await asyncio.to_thread(source.read, chunk_bytes):
                yield chunk

    async def user_email(self, user_id: str) -> str | None:
        return self.emails.get(user_id)

    async def users_named(self, name: str) -> list[str]:
        return [name]  # console users are their own ids (`:as alice` acts as `alice`)

    async def upload(
        self, channel: str, content: bytes, filename: str, title: str, thread_ts: str | None
    ) -> None:
        """Saved to a file, whose path is printed: a terminal cannot show the picture."""
        self.file_dir.mkdir(parents=True, exist_ok=True)
        # The time (to the microsecond) keeps one run's charts from overwriting another's.
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = self.file_dir / f"{stamp}-{next(self._numbers)}-{Path(filename).name}"
        await asyncio.to_thread(path.write_bytes, content)
        where = f"{channel}, thread {thread_ts}" if thread_ts else channel
        print(f"[file in {where}] {title}: saved to {path}\n", file=self.stream, flush=True)

    def text_of(self, reply: Reply, message: MessageKey | None = None) -> str:
        """The reply as the terminal shows it, its buttons numbered for `:click`."""
        return render_text(self.buttons.numbered(reply, message))

    def _print(self, heading: str, reply: Reply, message: MessageKey | None = None) -> None:
        print(f"{heading}\n{self.text_of(reply, message)}\n", file=self.stream, flush=True)


def _local_file(ref: str) -> tuple[Path, int] | None:
    path = Path(ref).expanduser()
    return (path, path.stat().st_size) if path.is_file() else None

"""The bytes of a `model upload` on their way: the one progress message it keeps editing, and
the stream that counts, hashes and limits the file's chunks as they pass from the chat into
Wallaroo."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from handlers.chat import Chat, ChatError, FileUnavailable
from handlers.render import model_upload as words

logger = logging.getLogger(__name__)

EDIT_EVERY_SECONDS = 2.0  # the progress message is edited at most this often


@dataclass(frozen=True)
class UploadJob:
    workspace: str | int
    name: str
    file_ref: str
    framework: str
    channel: str  # where the progress message goes
    owner: str = ""  # who asked: the progress goes to them directly if the channel refuses it


class SourceFailed(Exception):
    """The file stopped coming (Slack dropped it) or grew past the limit: the upload's fault
    lies on the chat's side, not Wallaroo's."""


class Progress:
    """The one message an upload keeps editing; a chat that will not take it only loses the
    progress, never the upload (a channel that refuses the first post sends it to the asker
    directly). Paced edits go out beside the stream (a slow or rate-limited chat must not hold
    up the bytes) and are skipped while one is still on its way; other edits wait for the one
    before, so they land in order."""

    def __init__(self, chat: Chat, job: UploadJob, workspace: str, file: str):
        self._chat, self._channel, self._owner = chat, job.channel, job.owner
        self._texts = (job.name, workspace, file)
        self._ts: str | None = None
        self._last_edit = 0.0
        self._pending: asyncio.Task[None] | None = None

    async def show(self, stage: str, *, paced: bool = False, background: bool = False) -> None:
        now = time.monotonic()
        busy = self._pending is not None and not self._pending.done()
        if paced and (busy or self._ts is None or now - self._last_edit < EDIT_EVERY_SECONDS):
            return
        self._last_edit = now
        if paced or background:
            self._pending = asyncio.create_task(self._after(self._pending, stage))
            return
        await self._after(self._pending, stage)

    async def _after(self, before: asyncio.Task[None] | None, stage: str) -> None:
        if before is not None:
            await before
        reply = words.progress_reply(*self._texts, stage)
        try:
            if self._ts is not None:
                await self._chat.update(self._channel, self._ts, reply)
                return
            try:
                self._ts = (await self._chat.post(self._channel, reply)).ts
            except ChatError:
                if not self._owner or self._owner == self._channel:
                    raise
                self._channel = self._owner  # e.g. a DM or a channel the bot is not in
                self._ts = (await self._chat.post(self._channel, reply)).ts
        except ChatError as exc:
            logger.warning("upload progress not shown in %s: %s", self._channel, exc)


class CountedStream:
    """The file's chunks on their way to Wallaroo: counted, hashed (the version it makes is
    the one with this sha), held to the size limit, progress shown, and a failure on the chat's
    side kept so it is not mistaken for Wallaroo's."""

    def __init__(self, source: AsyncIterator[bytes], size: int, limit: int, progress: Progress):
        self._source, self._size, self._limit = source, size, limit
        self._progress = progress
        self._digest = hashlib.sha256()
        self.sent = 0
        self.failure: str | None = None
        self.hint: str | None = None  # what would help, when the chat knows (FileUnavailable)

    @property
    def sha(self) -> str:
        return self._digest.hexdigest()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # Each chunk is hashed in a thread while it is sent (hashlib lets go of the GIL), so
        # the hash adds nothing to the transfer's time; one at a time, in order.
        hashing: asyncio.Future[None] | None = None
        try:
            async for chunk in self._source:
                self.sent += len(chunk)
                if self.sent > self._limit:
                    self.failure = f"the file grew past the limit of {words.megabytes(self._limit)}"
                    raise SourceFailed(self.failure)
                if hashing is not None:
                    await hashing
                hashing = asyncio.ensure_future(asyncio.to_thread(self._digest.update, chunk))
                await self._progress.show(words.downloading(self.sent, self._size), paced=True)
                yield chunk
            if hashing is not None:
                await hashing
        except ChatError as exc:
            self.failure = str(exc).rstrip(".")
            self.hint = exc.hint if isinstance(exc, FileUnavailable) else None
            raise SourceFailed(self.failure) from exc
        # Beside the body's end, not before it: a slow chat must not delay the upload's end.
        await self._progress.show(words.UPLOADING, background=True)

    async def aclose(self) -> None:
        closer = getattr(self._source, "aclose", None)
        if closer is not None:
            with contextlib.suppress(RuntimeError):  # still running in the sender: it ends itself
                await closer()

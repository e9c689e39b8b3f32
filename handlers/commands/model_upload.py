"""`model upload` (and the "Upload to Wallaroo" shortcut): a shared file streamed from the chat
straight into Wallaroo's upload, a bounded chunk at a time, with one progress message edited
as it goes (downloading, uploading, converting, ready).

Nothing is kept on the bot's side: the bytes pass through, so an upload cut off halfway leaves
nothing here to clean up, and the reply says what Wallaroo has (a version appeared, or not).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.wallaroo import ModelVersion, WallarooClient, WallarooError, Workspace
from handlers.chat import Chat, ChatError, FileUnavailable, SharedFile
from handlers.commands.lookup import find_workspace
from handlers.context import Answer, Services
from handlers.render import model_upload as words
from handlers.render.blocks import error_reply
from handlers.render.mrkdwn import code, escape, named
from storage.audit import Outcome

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20  # what is in memory at once, on each side
EDIT_EVERY_SECONDS = 2.0  # the progress message is edited at most this often
CONVERT_POLL_SECONDS = 1.0  # as Wallaroo's SDK polls an upload's status
CONVERT_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class UploadJob:
    workspace: str | int
    name: str
    file_ref: str
    framework: str
    channel: str  # where the progress message goes


class SourceFailed(Exception):
    """The file stopped coming (Slack dropped it) or grew past the limit: the upload's fault
    lies on the chat's side, not Wallaroo's."""


class Progress:
    """The one message an upload keeps editing; a chat that will not take it only loses the
    progress, never the upload. Paced edits go out beside the stream (a slow or rate-limited
    chat must not hold up the bytes) and are skipped while one is still on its way; a stage
    change waits for it, so the edits land in order."""

    def __init__(self, chat: Chat, channel: str, job: UploadJob, workspace: str, file: str):
        self._chat, self._channel = chat, channel
        self._texts = (job.name, workspace, file)
        self._ts: str | None = None
        self._last_edit = 0.0
        self._pending: asyncio.Task[None] | None = None

    async def show(self, stage: str, *, paced: bool = False) -> None:
        now = time.monotonic()
        if paced:
            busy = self._pending is not None and not self._pending.done()
            if busy or self._ts is None or now - self._last_edit < EDIT_EVERY_SECONDS:
                return
            self._last_edit = now
            self._pending = asyncio.create_task(self._send(stage))
            return
        if self._pending is not None:
            await self._pending
        self._last_edit = now
        await self._send(stage)

    async def _send(self, stage: str) -> None:
        reply = words.progress_reply(*self._texts, stage)
        try:
            if self._ts is None:
                self._ts = (await self._chat.post(self._channel, reply)).ts
            else:
                await self._chat.update(self._channel, self._ts, reply)
        except ChatError as exc:
            logger.warning("upload progress not shown in %s: %s", self._channel, exc)


class CountedStream:
    """The file's chunks on their way to Wallaroo: counted, held to the size limit, progress
    shown, and a failure on the chat's side kept so it is not mistaken for Wallaroo's."""

    def __init__(self, source: AsyncIterator[bytes], size: int, limit: int, progress: Progress):
        self._source, self._size, self._limit = source, size, limit
        self._progress = progress
        self.sent = 0
        self.failure: str | None = None
        self.hint: str | None = None  # what would help, when the chat knows (FileUnavailable)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._source:
                self.sent += len(chunk)
                if self.sent > self._limit:
                    self.failure = f"the file grew past the limit of {words.megabytes(self._limit)}"
                    raise SourceFailed(self.failure)
                await self._progress.show(words.downloading(self.sent, self._size), paced=True)
                yield chunk
        except ChatError as exc:
            self.failure = str(exc).rstrip(".")
            self.hint = exc.hint if isinstance(exc, FileUnavailable) else None
            raise SourceFailed(self.failure) from exc
        await self._progress.show(words.UPLOADING)

    async def aclose(self) -> None:
        closer = getattr(self._source, "aclose", None)
        if closer is not None:
            with contextlib.suppress(RuntimeError):  # still running in the sender: it ends itself
                await closer()


async def run_upload(services: Services, job: UploadJob) -> Answer:
    client, chat = services.wallaroo, services.chat
    workspace = await find_workspace(client, job.workspace)
    target = f"model {job.name} in workspace {workspace.name}"
    try:
        file = await chat.shared_file(job.file_ref)
    except FileUnavailable as exc:
        return Answer(error_reply(escape(str(exc)), exc.hint), target, Outcome.INVALID)
    limit = services.settings.chatops_max_model_bytes
    if file.size > limit:
        return Answer(words.too_big_reply(file.name, file.size, limit), target, Outcome.REFUSED)
    target = f"{target} from file {file.name}"
    before = await versions_of(client, workspace, job.name)
    converting = await client.converts_uploads()
    progress = Progress(chat, job.channel, job, workspace.name, file.name)
    await progress.show(words.downloading(0, file.size))
    stream = CountedStream(chat.read_file(file, CHUNK_BYTES), file.size, limit, progress)
    try:
        model_id = await _send(client, workspace, job, file, stream, converting)
    except (SourceFailed, WallarooError) as exc:
        cause = stream.failure if stream.failure is not None else str(exc)
        have = await what_wallaroo_has(client, workspace, job.name, before)
        await progress.show(words.failed_stage(f"{escape(cause)}. {have}"))
        if stream.failure is None and isinstance(exc, WallarooError):
            raise  # Wallaroo refused it (a bad name, say): the router's ladder says so
        what = "did not go through" if stream.hint else "was cut off"
        message = f"The upload of {named(file.name)} {what}: {escape(cause)}. {have}"
        hint = stream.hint or "Try again: the file itself is not at fault."
        return Answer(error_reply(message, hint), target, Outcome.ERROR)
    finally:
        await stream.aclose()
    if converting:
        await progress.show(words.CONVERTING)
    version = await _settled_version(client, workspace, job.name, before, converting)
    if version is not None and version.status not in (None, "ready", "error"):
        await progress.show(words.failed_stage(f"still {escape(version.status)} after a while"))
        hint = f"`/wallaroo model {escape(workspace.name)} {escape(job.name)}` shows when it is."
        reply = error_reply(f"Wallaroo has not finished converting {named(file.name)}.", hint)
        return Answer(reply, target, Outcome.ERROR)
    if version is not None and version.status == "error":
        stage = words.failed_stage("Wallaroo could not convert the file (status error)")
        await progress.show(stage)
        hint = f"See `/wallaroo model {escape(workspace.name)} {escape(job.name)}`."
        reply = error_reply(f"Wallaroo took {named(file.name)} but could not convert it.", hint)
        return Answer(reply, target, Outcome.ERROR)
    uuid, sha = (version.model_version, version.sha) if version else (None, None)
    await progress.show(words.ready_stage(uuid, sha, stream.sent))
    reply = words.uploaded_reply(job.name, workspace.name, model_id, uuid, sha)
    return Answer(reply, target)


async def _send(
    client: WallarooClient,
    workspace: Workspace,
    job: UploadJob,
    file: SharedFile,
    stream: CountedStream,
    converting: bool,
) -> int:
    if converting:
        return await client.upload_model_converted(
            workspace.id, job.name, file.name, stream, framework=job.framework
        )
    return await client.upload_model_stream(workspace.id, job.name, file.name, stream)


async def versions_of(
    client: WallarooClient, workspace: Workspace, name: str
) -> dict[str, ModelVersion]:
    """The versions Wallaroo has of model `name` in the workspace, by version UUID."""
    for model in await client.list_models(workspace.id):
        if model.name == name:
            found = await client.list_model_versions(name, model.id)
            return {v.model_version: v for v in found}
    return {}


async def what_wallaroo_has(
    client: WallarooClient, workspace: Workspace, name: str, before: dict[str, ModelVersion]
) -> str:
    """After a failed upload: whether a version of `name` appeared (asked, not assumed)."""
    try:
        after = await versions_of(client, workspace, name)
    except WallarooError as exc:
        return f"Whether Wallaroo kept anything could not be checked ({escape(exc.msg)})."
    new = [v for key, v in after.items() if key not in before]
    if not new:
        return f"Wallaroo has no new version of *{escape(name)}*: nothing was stored."
    shown = ", ".join(code(v.model_version) for v in new)
    return f"Wallaroo does show new version(s) {shown} of *{escape(name)}*: check before using."


async def _settled_version(
    client: WallarooClient,
    workspace: Workspace,
    name: str,
    before: dict[str, ModelVersion],
    converting: bool,
) -> ModelVersion | None:
    """The version the upload made, once Wallaroo says it is ready or failed (today's status;
    the tutorial's API has none: its versions are ready once stored)."""
    deadline = time.monotonic() + CONVERT_TIMEOUT_SECONDS
    while True:
        after = await versions_of(client, workspace, name)
        new = [v for key, v in after.items() if key not in before]
        version = max(new, key=lambda v: v.id) if new else None
        settled = version is None or version.status in (None, "ready", "error")
        if not converting or settled or time.monotonic() > deadline:
            return version
        await asyncio.sleep(CONVERT_POLL_SECONDS)

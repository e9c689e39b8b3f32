"""`model upload` (and the "Upload to Wallaroo" shortcut): a shared file streamed from the chat
straight into Wallaroo's upload, a bounded chunk at a time, with one progress message edited
as it goes (downloading, uploading, preparing, ready).

Nothing is kept on the bot's side: the bytes pass through, so an upload cut off halfway leaves
nothing here to clean up, and the reply says what Wallaroo has (a version appeared, or not).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from bot.wallaroo import (
    ModelVersion,
    WallarooClient,
    WallarooError,
    WallarooServerError,
    WallarooUnreachable,
    Workspace,
)
from bot.wallaroo.uploads import CONVERTED_FRAMEWORKS, NATIVE_FRAMEWORKS, dns_compliant
from handlers.chat import FileUnavailable, SharedFile
from handlers.commands.lookup import closest, find_workspace
from handlers.commands.upload_stream import CountedStream, Progress, SourceFailed, UploadJob
from handlers.context import Answer, CommandProblem, Services
from handlers.render import model_upload as words
from handlers.render.blocks import Reply, error_reply
from handlers.render.mrkdwn import code, escape, named
from storage.audit import Outcome

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20  # what is in memory at once, on each side
CONVERT_POLL_SECONDS = 1.0  # as Wallaroo's SDK polls an upload's status
CONVERT_TIMEOUT_SECONDS = 600.0
# After an upload Wallaroo never answered (a timeout, a 5xx), how long its version is looked
# for before the reply says it may still appear: a retry then would store it twice.
UNKNOWN_FATE_SECONDS = 60.0


def job_problem(name: str, framework: str) -> CommandProblem | None:
    """What Wallaroo's SDK would refuse before sending anything: a name that is not a DNS
    label, a framework it does not know or one it converts (that needs schemas)."""
    return name_problem(name) or framework_problem(framework)


def name_problem(name: str) -> CommandProblem | None:
    if not dns_compliant(name):
        return CommandProblem(
            f"{code(name)} is not a model name Wallaroo takes: letters, digits and '-', "
            "starting with a letter, not ending with '-', under 64 characters.",
            "e.g. `house-price-2`",
        )
    return None


def framework_problem(framework: str) -> CommandProblem | None:
    if framework in NATIVE_FRAMEWORKS:
        return None
    if framework in CONVERTED_FRAMEWORKS:
        return CommandProblem(
            f"Wallaroo converts {escape(framework)} models, and needs their input and output "
            "schemas (Arrow) to do it, which a chat upload cannot give.",
            "Upload it with Wallaroo's SDK (`upload_model(..., input_schema=, output_schema=)`),"
            " or convert it to ONNX and use `framework=onnx`.",
        )
    guess = closest(framework, [*NATIVE_FRAMEWORKS, *sorted(CONVERTED_FRAMEWORKS)])
    return CommandProblem(
        f"{code(framework)} is not a framework Wallaroo knows.",
        f"Did you mean `framework={guess}`?" if guess else "Use `framework=onnx` or `tensorflow`.",
    )


async def run_upload(services: Services, job: UploadJob) -> Answer:
    problem = job_problem(job.name, job.framework)
    if problem is not None:
        raise problem  # before any call: the SDK checks these first too
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
    today = await client.speaks_todays_api()
    progress = Progress(chat, job, workspace.name, file.name)
    await progress.show(words.downloading(0, file.size))
    stream = CountedStream(chat.read_file(file, CHUNK_BYTES), file.size, limit, progress)
    try:
        model_id: int | None = await _send(client, workspace, job, file, stream, today)
    except (SourceFailed, WallarooError) as exc:
        cause = stream.failure if stream.failure is not None else str(exc)
        if stream.failure is None and isinstance(exc, WallarooUnreachable | WallarooServerError):
            found = await _unknown_fate(client, workspace, job.name, before, stream, progress)
            if found is None:
                return Answer(
                    _no_answer_reply(workspace, job.name, file, cause), target, Outcome.ERROR
                )
            model_id = None  # it arrived after all: report it as any upload
        else:
            have = await what_wallaroo_has(client, workspace, job.name, before)
            await progress.show(words.failed_stage(f"{escape(cause)}. {have}"))
            if stream.failure is None:
                raise  # Wallaroo refused it (a bad name, say): the router's ladder says so
            what = "did not go through" if stream.hint else "was cut off"
            message = f"The upload of {named(file.name)} {what}: {escape(cause)}. {have}"
            hint = stream.hint or "Try again: the file itself is not at fault."
            return Answer(error_reply(message, hint), target, Outcome.ERROR)
    finally:
        await stream.aclose()
    return await _finish(client, workspace, job, file, stream, progress, model_id, before, today)


async def _send(
    client: WallarooClient,
    workspace: Workspace,
    job: UploadJob,
    file: SharedFile,
    stream: CountedStream,
    today: bool,
) -> int:
    if today:
        return await client.upload_model_multipart(
            workspace.id, job.name, file.name, stream, framework=job.framework
        )
    return await client.upload_model_stream(workspace.id, job.name, file.name, stream)


async def _finish(
    client: WallarooClient,
    workspace: Workspace,
    job: UploadJob,
    file: SharedFile,
    stream: CountedStream,
    progress: Progress,
    model_id: int | None,
    before: dict[str, ModelVersion],
    today: bool,
) -> Answer:
    """Once Wallaroo has the file: the version it made, when it is ready (or why not)."""
    target = f"model {job.name} in workspace {workspace.name} from file {file.name}"
    version = await _settled_version(client, workspace, job, before, stream.sha, progress, today)
    if version is not None and version.status not in (None, "ready", "error"):
        await progress.show(words.failed_stage(f"still {escape(version.status)} after a while"))
        hint = f"`/wallaroo model {escape(workspace.name)} {escape(job.name)}` shows when it is."
        reply = error_reply(f"Wallaroo has not finished preparing {named(file.name)}.", hint)
        return Answer(reply, target, Outcome.ERROR)
    if version is not None and version.status == "error":
        await progress.show(words.failed_stage("Wallaroo could not load the file (status error)"))
        hint = f"See `/wallaroo model {escape(workspace.name)} {escape(job.name)}`."
        reply = error_reply(f"Wallaroo took {named(file.name)} but could not load it.", hint)
        return Answer(reply, target, Outcome.ERROR)
    uuid, sha = (version.model_version, version.sha) if version else (None, None)
    if model_id is None and version is not None:
        model_id = version.models_pk_id
    await progress.show(words.ready_stage(uuid, sha, stream.sent))
    reply = words.uploaded_reply(job.name, workspace.name, model_id, uuid, sha)
    return Answer(reply, target)


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


async def _ours(
    client: WallarooClient,
    workspace: Workspace,
    name: str,
    before: dict[str, ModelVersion],
    sha: str,
    *,
    lone: bool = True,
) -> ModelVersion | None:
    """The new version holding the bytes sent (its sha), not another upload's under the same
    name; with `lone`, the only new version when none matches (a server hashing otherwise)."""
    after = await versions_of(client, workspace, name)
    new = [v for key, v in after.items() if key not in before]
    mine = [v for v in new if v.sha == sha]
    if mine:
        return max(mine, key=lambda v: v.id)
    return new[0] if lone and len(new) == 1 else None


async def _settled_version(
    client: WallarooClient,
    workspace: Workspace,
    job: UploadJob,
    before: dict[str, ModelVersion],
    sha: str,
    progress: Progress,
    today: bool,
) -> ModelVersion | None:
    """The version the upload made, once Wallaroo says it is ready or failed (today's status;
    the tutorial's API has none: its versions are ready once stored)."""
    deadline = time.monotonic() + CONVERT_TIMEOUT_SECONDS
    shown = False
    while True:
        version = await _ours(client, workspace, job.name, before, sha)
        settled = version is None or version.status in (None, "ready", "error")
        if not today or settled or time.monotonic() > deadline:
            return version
        if not shown:
            await progress.show(words.PREPARING)
            shown = True
        await asyncio.sleep(CONVERT_POLL_SECONDS)


async def _unknown_fate(
    client: WallarooClient,
    workspace: Workspace,
    name: str,
    before: dict[str, ModelVersion],
    stream: CountedStream,
    progress: Progress,
) -> ModelVersion | None:
    """Wallaroo did not answer (a timeout, a 5xx): it may have stored the file all the same,
    or still be storing it, so its version is looked for a while before giving up."""
    await progress.show(words.LOOKING)
    deadline = time.monotonic() + UNKNOWN_FATE_SECONDS
    while True:
        with contextlib.suppress(WallarooError):
            found = await _ours(client, workspace, name, before, stream.sha, lone=False)
            if found is not None:
                return found
        if time.monotonic() >= deadline:
            await progress.show(words.failed_stage(words.MAY_STILL_APPEAR))
            return None
        await asyncio.sleep(CONVERT_POLL_SECONDS)


def _no_answer_reply(workspace: Workspace, name: str, file: SharedFile, cause: str) -> Reply:
    where = f"`/wallaroo model {escape(workspace.name)} {escape(name)}`"
    return error_reply(
        f"Wallaroo did not answer the upload of {named(file.name)} ({escape(cause)}), and no new "
        f"version of *{escape(name)}* has appeared yet, but it may still appear.",
        f"Check {where} before uploading again: a second upload would store a second version.",
    )

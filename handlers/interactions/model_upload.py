"""The "Upload to Wallaroo" message shortcut: a message carrying a file opens a modal
(workspace, model name, framework), and its submission runs the same streamed upload as
`model upload`, its progress posted in the message's channel. Each step checks the role
(operator) and is audited as the command is."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from handlers.chat import ChatError
from handlers.commands.model_upload import (
    UploadJob,
    framework_problem,
    name_problem,
    run_upload,
)
from handlers.context import (
    Actor,
    Services,
    answer_for_error,
    record_click,
    record_intent,
    unaudited_reply,
)
from handlers.interactions.forms import chosen, plain, read_metadata, role_refusal, typed
from handlers.render import model_upload as words
from handlers.render.blocks import Reply, error_reply
from storage.audit import AuditUnavailable, Outcome

logger = logging.getLogger(__name__)
AREA, ACTION = "models", "upload"
WORKSPACES_SECONDS = 1.5  # the modal must open within Slack's 3 s: a slow listing is skipped
# Where a shortcut can be used: a channel, a private one, or a direct message (D...).
_CONVERSATION = re.compile(r"[CDG][A-Z0-9]+")
NO_MODAL = "Slack would not open the upload form (it waits 3 s for it); use the shortcut again."


@dataclass(frozen=True)
class UploadForm:
    workspace: str
    name: str
    framework: str
    file_id: str
    channel: str


async def _may_upload(services: Services, actor: Actor) -> Reply | None:
    refusal = await role_refusal(services, actor, AREA, ACTION)
    return None if refusal is None else error_reply(refusal)


async def _audit(
    services: Services, actor: Actor, text: str, target: str, outcome: Outcome, **more: Any
) -> None:
    await record_click(
        services, actor, text=text, area=AREA, action=ACTION, target=target, outcome=outcome,
        started=more.pop("started", None), **more,
    )  # fmt: skip


async def shortcut_used(
    services: Services, actor: Actor, message: dict[str, Any], trigger_id: str
) -> Reply | None:
    """The shortcut on `message`: the modal opened (None), or what stopped it, audited."""
    files = [f for f in message.get("files") or [] if isinstance(f, dict) and f.get("id")]
    text = f"[shortcut] upload_model {files[0]['id'] if files else '(no file)'}"
    refusal = await _may_upload(services, actor)
    if refusal is not None:
        await _audit(services, actor, text, "", Outcome.REFUSED)
        return refusal
    if not files:
        await _audit(services, actor, text, "", Outcome.INVALID)
        return error_reply(
            "This message carries no file.", "Use the shortcut on the message with the model."
        )
    file = files[0]
    try:
        listed = await asyncio.wait_for(services.wallaroo.list_workspaces(), WORKSPACES_SECONDS)
        names = [w.name for w in listed]
    except Exception:  # slow or down: the modal asks for the name as text instead
        names = []
    metadata = {"file": str(file["id"]), "channel": actor.channel_id}
    name = str(file.get("name") or file["id"])
    target = f"file {name}"
    try:
        view_id = await services.chat.open_view(
            trigger_id, words.upload_modal(name, metadata, names)
        )
    except ChatError as exc:  # e.g. the trigger expired while the workspaces were listed
        await _audit(services, actor, text, target, Outcome.ERROR)
        logger.warning("the upload modal did not open: %s", exc)
        return error_reply(NO_MODAL)
    if view_id is None:
        await _audit(services, actor, text, target, Outcome.INVALID)
        return error_reply("This chat has no modals.", "Type `model upload WS NAME FILE`.")
    await _audit(services, actor, text, target, Outcome.OK)
    return None


def read_form(view: dict[str, Any]) -> UploadForm | dict[str, str]:
    """The submitted modal as a form, or the errors to show in it (block id -> message)."""
    metadata = read_metadata(view.get("private_metadata")) or {}
    errors: dict[str, str] = {}
    workspace = chosen(view, words.WORKSPACE_BLOCK, words.WORKSPACE_INPUT) or typed(
        view, words.WORKSPACE_BLOCK, words.WORKSPACE_INPUT
    )
    name = typed(view, words.NAME_BLOCK, words.NAME_INPUT)
    framework = typed(view, words.FRAMEWORK_BLOCK, words.FRAMEWORK_INPUT).lower()
    if not workspace:
        errors[words.WORKSPACE_BLOCK] = "Name a workspace."
    if not name:
        errors[words.NAME_BLOCK] = "Give the model a name (letters, digits and '-')."
    if not framework:
        errors[words.FRAMEWORK_BLOCK] = "Name a framework, e.g. onnx."
    # What the SDK checks first, said under the input at fault.
    for block, problem in (
        (words.NAME_BLOCK, name_problem(name) if name else None),
        (words.FRAMEWORK_BLOCK, framework_problem(framework) if framework else None),
    ):
        if problem is not None:
            errors[block] = plain(problem)
    file_id, channel = metadata.get("file"), metadata.get("channel")
    # Slack hands private_metadata back as sent: anything else was made up on the way.
    valid_channel = channel == "" or (isinstance(channel, str) and _CONVERSATION.fullmatch(channel))
    if not isinstance(file_id, str) or not file_id or not valid_channel:
        errors[words.NAME_BLOCK] = "This form names no file; use the shortcut again."
    if errors:
        return errors
    assert isinstance(file_id, str) and isinstance(channel, str)
    return UploadForm(workspace, name, framework, file_id, channel)


async def check_submission(
    services: Services, actor: Actor, view: dict[str, Any]
) -> UploadForm | dict[str, str]:
    """Before the modal closes: the form, or errors for it (a refusal is audited)."""
    form = read_form(view)
    text = f"[modal] model upload {_describe(form)}"
    if isinstance(form, dict):
        await _audit(services, actor, text, "", Outcome.INVALID)
        return form
    refusal = await _may_upload(services, actor)
    if refusal is not None:
        await _audit(services, actor, text, "", Outcome.REFUSED)
        return {words.NAME_BLOCK: "Uploading a model needs the operator role."}
    return form


async def run_submission(services: Services, actor: Actor, form: UploadForm) -> Reply:
    """The upload the modal asked for; its intent audited first (fail closed), then its
    outcome. The reply is for the submitter; the channel has the progress message."""
    started = time.perf_counter()
    text = f"[modal] model upload {_describe(form)}"
    try:
        intent = await record_intent(services, actor, text=text, area=AREA, action=ACTION)
    except AuditUnavailable as exc:
        return unaudited_reply(exc)
    job = UploadJob(
        form.workspace, form.name, form.file_id, form.framework, form.channel, actor.user_id
    )
    wallaroo_error = None
    try:
        answer = await run_upload(services, job)
    except Exception as exc:
        answer, wallaroo_error = answer_for_error(services, exc, "the upload modal")
    await _audit(
        services, actor, text, answer.target, answer.outcome,
        started=started, wallaroo_error=wallaroo_error, intent=intent,
    )  # fmt: skip
    return answer.reply


async def deliver(services: Services, actor: Actor, channel: str, reply: Reply) -> None:
    """The submitter's reply: in the channel the shortcut was used in, or in a direct message
    when that will not take it (a DM with someone else, a channel the bot is not in)."""
    if channel:
        try:
            await services.chat.post_ephemeral(channel, actor.user_id, reply)
            return
        except ChatError as exc:
            logger.info("the upload's reply goes to a direct message: %s", exc)
    try:
        await services.chat.post(actor.user_id, reply)
    except ChatError as exc:  # the upload ran (and is audited) all the same
        logger.warning("telling %s what their upload did failed: %s", actor.user_id, exc)


def _describe(form: UploadForm | dict[str, str]) -> str:
    if isinstance(form, dict):
        return "(incomplete form)"
    return f"{form.workspace} {form.name} {form.file_id} framework={form.framework}"[:300]

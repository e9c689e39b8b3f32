"""The "Upload to Wallaroo" message shortcut: a message carrying a file opens a modal
(workspace, model name, framework), and its submission runs the same streamed upload as
`model upload`, its progress posted in the message's channel. Each step checks the role
(operator) and is audited as the command is."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from handlers.commands.model_upload import UploadJob, run_upload
from handlers.context import (
    Actor,
    Services,
    answer_for_error,
    record_click,
    record_intent,
    unaudited_reply,
)
from handlers.render import model_upload as words
from handlers.render.blocks import Reply, error_reply
from storage.audit import AuditUnavailable, Outcome
from storage.roles import Role, allows, effective_role

AREA, ACTION = "models", "upload"
WORKSPACES_SECONDS = 1.5  # the modal must open within Slack's 3 s: a slow listing is skipped


@dataclass(frozen=True)
class UploadForm:
    workspace: str
    name: str
    framework: str
    file_id: str
    channel: str


async def _may_upload(services: Services, actor: Actor) -> Reply | None:
    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
    if allows(role, Role.OPERATOR):
        return None
    return error_reply(
        f"Uploading a model needs the *operator* role; you are *{role}*.",
        "An admin can run `/wallaroo access grant @you operator`.",
    )


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
    view_id = await services.chat.open_view(trigger_id, words.upload_modal(name, metadata, names))
    await _audit(services, actor, text, f"file {name}", Outcome.OK)
    if view_id is None:
        return error_reply("This chat has no modals.", "Type `model upload WS NAME FILE`.")
    return None


def read_form(view: dict[str, Any]) -> UploadForm | dict[str, str]:
    """The submitted modal as a form, or the errors to show in it (block id -> message)."""
    values = (view.get("state") or {}).get("values") or {}

    def value(block: str, action: str) -> str:
        item = (values.get(block) or {}).get(action) or {}
        chosen = item.get("selected_option") or {}
        return str(chosen.get("value") or item.get("value") or "").strip()

    try:
        metadata = json.loads(str(view.get("private_metadata") or "{}"))
    except json.JSONDecodeError:
        metadata = {}
    errors: dict[str, str] = {}
    workspace = value(words.WORKSPACE_BLOCK, words.WORKSPACE_INPUT)
    name = value(words.NAME_BLOCK, words.NAME_INPUT)
    framework = value(words.FRAMEWORK_BLOCK, words.FRAMEWORK_INPUT).lower()
    if not workspace:
        errors[words.WORKSPACE_BLOCK] = "Name a workspace."
    if not name:
        errors[words.NAME_BLOCK] = "Give the model a name (letters, digits and '-')."
    if not framework:
        errors[words.FRAMEWORK_BLOCK] = "Name a framework, e.g. onnx."
    file_id, channel = metadata.get("file"), metadata.get("channel")
    if not isinstance(file_id, str) or not isinstance(channel, str):
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
    job = UploadJob(form.workspace, form.name, form.file_id, form.framework, form.channel)
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


def _describe(form: UploadForm | dict[str, str]) -> str:
    if isinstance(form, dict):
        return "(incomplete form)"
    return f"{form.workspace} {form.name} {form.file_id} framework={form.framework}"[:300]

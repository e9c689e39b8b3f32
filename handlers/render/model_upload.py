"""`model upload`'s words: the one progress message it keeps editing, its outcomes, and the
shortcut's modal (workspace, model name, framework)."""

from __future__ import annotations

import json
from typing import Any

from handlers.render.blocks import Reply, context, error_reply, ok_reply, section
from handlers.render.mrkdwn import code, escape, named

UPLOAD_CALLBACK = "upload_model"  # the message shortcut's callback id (slack-manifest.yml)
UPLOAD_VIEW = "upload_model_view"
WORKSPACE_BLOCK, WORKSPACE_INPUT = "upload_workspace", "workspace"
NAME_BLOCK, NAME_INPUT = "upload_name", "name"
FRAMEWORK_BLOCK, FRAMEWORK_INPUT = "upload_framework", "framework"
DEFAULT_FRAMEWORK = "onnx"
MB = 1024 * 1024


def megabytes(size: int) -> str:
    return f"{size / MB:,.1f} MB" if size >= MB // 10 or size == 0 else f"{size:,} bytes"


def progress_reply(name: str, workspace: str, file_name: str, stage: str) -> Reply:
    """The progress message: what goes where, and the stage it is at (mrkdwn, escaped)."""
    what = f"{named(file_name)} → model *{escape(name)}* in {named(workspace)}"
    reply = Reply(
        text=f"Uploading {file_name} to {workspace}: {_plain(stage)}",
        blocks=[section(f":arrow_up: {what}"), context(stage)],
        ephemeral=False,
    )
    return reply


def downloading(done: int, total: int) -> str:
    share = f" ({done * 100 // total}%)" if total else ""
    return f":hourglass_flowing_sand: downloading {megabytes(done)} of {megabytes(total)}{share}, streamed into Wallaroo as it comes"  # noqa: E501


UPLOADING = ":hourglass_flowing_sand: uploading: all of it sent, waiting for Wallaroo to store it"
PREPARING = (
    ":gear: preparing: Wallaroo has the file and is loading it (its version is not ready yet)"
)
LOOKING = ":mag: no answer from Wallaroo: looking for the new version, which may still appear"
MAY_STILL_APPEAR = (
    "Wallaroo did not answer and no new version has appeared yet; it may still appear"
)


def ready_stage(version: str | None, sha: str | None, size: int) -> str:
    if version is None:
        return f":white_check_mark: ready ({megabytes(size)})"
    return f":white_check_mark: ready: version {code(version)}, sha {code((sha or '')[:12])}, {megabytes(size)}"  # noqa: E501


def failed_stage(why: str) -> str:
    return f":x: failed: {why}"


def uploaded_reply(
    name: str, workspace: str, model_id: int | None, version: str | None, sha: str | None
) -> Reply:
    shown = f" version {code(version)} (sha {code(sha or '')})" if version else ""
    model = f" (model id {model_id})" if model_id is not None else ""
    return ok_reply(
        f"Uploaded model *{escape(name)}*{shown} to {named(workspace)}{model}. "
        f"Use it: `/wallaroo pipeline create {escape(workspace)} PIPELINE {escape(name)}`"
    )


def too_big_reply(file_name: str, size: int, limit: int) -> Reply:
    return error_reply(
        f"{named(file_name)} is {megabytes(size)}; the bot takes model files up to "
        f"{megabytes(limit)} (`CHATOPS_MAX_MODEL_BYTES`). Nothing was uploaded.",
        "Upload a smaller file, or ask whoever runs the bot to raise the limit.",
    )


def upload_modal(file_name: str, metadata: dict[str, Any], workspaces: list[str]) -> dict:
    """The shortcut's modal; `metadata` (the file and where to post) rides in private_metadata."""
    workspace_element: dict[str, Any] = {"type": "plain_text_input", "action_id": WORKSPACE_INPUT}
    if workspaces:
        options = [
            {"text": {"type": "plain_text", "text": w[:75]}, "value": w[:150]}
            for w in workspaces[:100]
        ]
        workspace_element = {
            "type": "static_select",
            "action_id": WORKSPACE_INPUT,
            "options": options,
        }
    stem = file_name.rsplit(".", 1)[0]
    suggested = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in stem).strip("-")
    return {
        "type": "modal",
        "callback_id": UPLOAD_VIEW,
        "title": {"type": "plain_text", "text": "Upload to Wallaroo"},
        "submit": {"type": "plain_text", "text": "Upload"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata)[:3000],
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"File: {named(file_name)}"},
            },
            _input(WORKSPACE_BLOCK, "Workspace", workspace_element),
            _input(
                NAME_BLOCK,
                "Model name",
                {
                    "type": "plain_text_input",
                    "action_id": NAME_INPUT,
                    "initial_value": suggested[:150] or "model",
                },
            ),
            _input(
                FRAMEWORK_BLOCK,
                "Framework",
                {
                    "type": "plain_text_input",
                    "action_id": FRAMEWORK_INPUT,
                    "initial_value": DEFAULT_FRAMEWORK,
                },
            ),
        ],
    }


def _input(block_id: str, label: str, element: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }


def _plain(stage: str) -> str:
    return stage.split(": ", 1)[-1] if stage.startswith(":") else stage

"""The modals where typing is worse: "Request a deploy" (workspace and pipeline chosen from
what Wallaroo lists as the user types) and "Create an assay" (every option with its default).

Block and action ids are the contract with the listeners (bot/adapters/slack_modals.py) and
the submission handlers (handlers/interactions/*_modal.py). Everything shown here is
plain_text, which Slack never formats, so names go in unescaped, only cut to Slack's limits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ConversationSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.render.blocks import section
from handlers.render.mrkdwn import shorten

DEPLOY_VIEW = "deploy_modal"
DEPLOY_WORKSPACE = "deploy_workspace"  # each input's block id and its element's action id
DEPLOY_PIPELINE = "deploy_pipeline"
DEPLOY_VERSION = "deploy_version"
DEPLOY_REASON = "deploy_reason"
DEPLOY_CHANNEL = "deploy_channel"
HOME_DEPLOY_ACTION = "home_request_deploy"

ASSAY_VIEW = "assay_create_modal"
ASSAY_BLOCK = "assay_"  # + the option's key; the element's action id is the key itself

OPTION_TEXT_CHARS = 75  # Slack's limits: an option's text, its value, an external select's list
OPTION_VALUE_CHARS = 150
MAX_OPTIONS = 100
REASON_CHARS = 500
METADATA_CHARS = 3000


def option(text: str, value: str) -> dict[str, Any]:
    return Option(value=value[:OPTION_VALUE_CHARS], text=shorten(text, OPTION_TEXT_CHARS)).to_dict()


def named_options(items: Iterable[tuple[str, int]], typed: str) -> list[dict[str, Any]]:
    """An external select's options: the (name, id) pairs whose name holds what was typed (case
    aside), at most Slack's 100, each shown as `name (id N)` and valued by its id."""
    wanted = typed.strip().casefold()
    found = [(name, id_) for name, id_ in items if wanted in name.casefold()]
    found.sort(key=lambda pair: (not pair[0].casefold().startswith(wanted), pair[0].casefold()))
    return [option(_with_id(name, id_), str(id_)) for name, id_ in found[:MAX_OPTIONS]]


def _with_id(name: str, id_: int) -> str:
    suffix = f" (id {id_})"
    return shorten(name, OPTION_TEXT_CHARS - len(suffix)) + suffix


def metadata(**values: object) -> str:
    """What a view carries back (Slack returns it as sent, unless forged: the reader checks)."""
    text = json.dumps(values, separators=(",", ":"))
    assert len(text) <= METADATA_CHARS, "private_metadata over Slack's limit"
    return text


def deploy_view(origin_channel: str, *, ask_channel: bool) -> dict[str, Any]:
    """The "Request a deploy" modal; `ask_channel` (opened from Home with no approval channel
    set) adds where to post the request."""
    blocks: list[Block] = [
        section("The request is posted for approval, exactly as `/wallaroo deploy` does."),
        _input(
            DEPLOY_WORKSPACE,
            "Workspace",
            ExternalDataSelectElement(
                action_id=DEPLOY_WORKSPACE, placeholder="Type to search", min_query_length=0
            ),
        ),
        _input(
            DEPLOY_PIPELINE,
            "Pipeline",
            ExternalDataSelectElement(
                action_id=DEPLOY_PIPELINE,
                placeholder="Choose the workspace first",
                min_query_length=0,
            ),
        ),
        _input(
            DEPLOY_VERSION,
            "Version",
            PlainTextInputElement(action_id=DEPLOY_VERSION, placeholder="latest", max_length=100),
            optional=True,
            hint="Its number in /wallaroo versions (1 is the first made) or its UUID; "
            "empty: the newest. An earlier one than the live one is a rollback.",
        ),
        _input(
            DEPLOY_REASON,
            "Reason",
            PlainTextInputElement(action_id=DEPLOY_REASON, multiline=True, max_length=REASON_CHARS),
            optional=True,
        ),
    ]
    if ask_channel:
        blocks.append(
            _input(
                DEPLOY_CHANNEL,
                "Post the request in",
                ConversationSelectElement(action_id=DEPLOY_CHANNEL, placeholder="A channel"),
            )
        )
    return _modal(DEPLOY_VIEW, "Request a deploy", "Request", blocks, metadata(c=origin_channel))


def assay_view(
    workspace: tuple[str, int],
    pipeline: tuple[str, int],
    defaults: dict[str, str],
    fields: Sequence[tuple[str, str, str, bool]],
    metrics: Sequence[str],
    origin_channel: str,
) -> dict[str, Any]:
    """The "Create an assay" modal: one input per option (key, label, placeholder, required),
    filled with `defaults`; the workspace and pipeline ids ride in the metadata."""
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                PlainTextObject(
                    text=shorten(f"Pipeline {pipeline[0]} in workspace {workspace[0]}", 2000)
                )
            ]
        )
    ]
    for key, label, placeholder, required in fields:
        element: Any
        if key == "metric":
            choices = [Option(value=m, text=m) for m in metrics]
            initial = next((o for o in choices if o.value == defaults.get(key)), None)
            element = StaticSelectElement(action_id=key, options=choices, initial_option=initial)
        else:
            element = PlainTextInputElement(
                action_id=key,
                placeholder=placeholder,
                initial_value=defaults.get(key) or None,
                max_length=200,
            )
        blocks.append(_input(ASSAY_BLOCK + key, label, element, optional=not required))
    meta = metadata(w=workspace[1], p=pipeline[1], c=origin_channel)
    return _modal(ASSAY_VIEW, "Create an assay", "Create", blocks, meta)


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal that only tells (a refusal when a form may not be opened)."""
    view = View(type="modal", title=title[:24], close="Close", blocks=[section(text)])
    return view.to_dict()


def _input(
    block_id: str, label: str, element: Any, *, optional: bool = False, hint: str | None = None
) -> InputBlock:
    return InputBlock(block_id=block_id, label=label, element=element, optional=optional, hint=hint)


def _modal(
    callback_id: str, title: str, submit: str, blocks: list[Block], private_metadata: str
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=title,
        submit=submit,
        close="Cancel",
        blocks=blocks,
        private_metadata=private_metadata,
    )
    return view.to_dict()

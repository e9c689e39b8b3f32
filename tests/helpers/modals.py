"""Driving the bot's modals as Slack would: the view it opened (recorded by the fake Slack),
`block_suggestion` payloads for an external select's options, and `view_submission`s."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from handlers.render.approval_messages import APPROVE_ACTION
from handlers.render.modals import (
    DEPLOY_PIPELINE,
    DEPLOY_REASON,
    DEPLOY_VERSION,
    DEPLOY_WORKSPACE,
)
from storage.audit import AuditEntry, recent_entries
from tests.helpers.emulators import Emulator
from tests.helpers.slack_bot import Bot

USER = {"team_id": "T1"}


def opened_views(bot: Bot, count: int = 1) -> list[dict[str, Any]]:
    """The views the bot opened with views.open, once there are `count` (or time is up)."""
    calls = bot.slack.wait_for("/api/views.open", count)
    return [_view(call.body) for call in calls]


def _view(body: dict[str, Any]) -> dict[str, Any]:
    view = body["view"]
    return json.loads(view) if isinstance(view, str) else view


def block_of(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return block


def _user(user: str) -> dict[str, str]:
    return {"id": user, "username": user.lower(), **USER}


def suggest(
    bot: Bot,
    view: dict[str, Any],
    action_id: str,
    typed: str,
    user: str,
    values: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The options the bot answers for what the user typed into the select `action_id`."""
    payload = {
        "type": "block_suggestion",
        "user": _user(user),
        "team": {"id": "T1", "domain": "example"},
        "api_app_id": "A1",
        "action_id": action_id,
        "block_id": action_id,
        "value": typed,
        "container": {"type": "view", "view_id": "V1"},
        "view": {**view, "id": "V1", "state": {"values": values or {}}},
    }
    response = bot.interact(payload)
    assert response.status_code == 200, response.text
    return response.json()["options"]


def submit(
    bot: Bot,
    view: dict[str, Any],
    values: dict[str, Any],
    user: str,
    private_metadata: str | None = None,
) -> httpx.Response:
    """Submit the view with these input values (`selected`/`text` below), as Slack would."""
    sent = {**view, "id": "V1", "state": {"values": values}}
    if private_metadata is not None:
        sent["private_metadata"] = private_metadata
    payload = {
        "type": "view_submission",
        "user": _user(user),
        "team": {"id": "T1", "domain": "example"},
        "api_app_id": "A1",
        "trigger_id": f"trigger-{uuid.uuid4().hex}",
        "view": sent,
    }
    return bot.interact(payload)


def errors_of(response: httpx.Response) -> dict[str, str]:
    """The errors a submission was answered with ({} for one that closed the form)."""
    assert response.status_code == 200, response.text
    if not response.content:
        return {}
    answer = response.json()
    assert answer["response_action"] == "errors", answer
    return answer["errors"]


def selected(block: str, value: str, text: str = "x") -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": text}, "value": value}
    return {block: {block: {"type": "external_select", "selected_option": option}}}


def text(block: str, action: str, value: str | None) -> dict[str, Any]:
    return {block: {action: {"type": "plain_text_input", "value": value}}}


def home_click(bot: Bot, action_id: str, user: str) -> httpx.Response:
    """Click a button on the user's App Home tab (no channel, no response URL)."""
    payload = {
        "type": "block_actions",
        "user": _user(user),
        "team": {"id": "T1", "domain": "example"},
        "api_app_id": "A1",
        "trigger_id": f"trigger-{uuid.uuid4().hex}",
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "home_actions"}],
    }
    return bot.interact(payload)


# --- the deploy form, as the tests of it drive it ------------------------------------------


def ask(bot: Bot, command: str, user: str = "UADMIN") -> str:
    response, key = bot.command(command, user)
    assert response.status_code == 200
    return json.dumps(bot.reply_to(key))


def audit_rows(bot: Bot, count: int = 20) -> list[AuditEntry]:
    async def read() -> list[AuditEntry]:
        async with bot.services.sessions() as session:
            return await recent_entries(session, count)

    return bot.run(read)


def open_form(bot: Bot, user: str = "UOPS") -> dict[str, Any]:
    before = len(bot.slack.api_calls("views.open"))
    response, _ = bot.command("deploy", user)
    assert response.status_code == 200
    return opened_views(bot, before + 1)[-1]


def ids_of(drift: Emulator, bot: Bot, view: dict[str, Any], pipeline: str) -> tuple[str, str]:
    """The option values (Wallaroo ids) of the demo's workspace and of `pipeline`."""
    assert drift.demo is not None
    workspace = str(drift.demo["workspace_id"])
    values = selected(DEPLOY_WORKSPACE, workspace)
    (found,) = suggest(bot, view, DEPLOY_PIPELINE, pipeline, "UOPS", values)
    return workspace, found["value"]


def filled(workspace: str, pipeline: str, reason: str = "", version: str = "") -> dict:
    return (
        selected(DEPLOY_WORKSPACE, workspace)
        | selected(DEPLOY_PIPELINE, pipeline)
        | text(DEPLOY_VERSION, DEPLOY_VERSION, version or None)
        | text(DEPLOY_REASON, DEPLOY_REASON, reason or None)
    )


def requests_posted(bot: Bot) -> list[dict]:
    return [b for b in bot.slack.api_calls("chat.postMessage") if APPROVE_ACTION in str(b)]

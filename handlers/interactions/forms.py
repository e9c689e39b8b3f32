"""What the modal submissions share: reading a view's state and its (untrusted) metadata, the
role check that answers in the form, and running the checked command exactly as typed.

A submission is answered in two steps, as Slack wants: within 3 s either `errors` (the form
stays open, each bad input named) or a plain ack that closes it; then the command runs through
the router (role, audit intent and outcome, the handler) and its reply reaches the user
ephemerally where the form was opened, or in a direct message when it came from App Home.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from handlers.chat import ChatError
from handlers.commands.grammar import Command
from handlers.commands.permissions import required_role
from handlers.commands.router import handle_command
from handlers.context import Actor, CommandProblem, Services, record_click
from handlers.render.blocks import Reply
from handlers.render.mrkdwn import is_channel_id, shorten, to_plain
from storage.audit import Outcome
from storage.roles import allows, effective_role

logger = logging.getLogger(__name__)
ERROR_CHARS = 300  # an error under an input is a line or two, not a page
FORGED = "This form came back altered, so nothing was done; open it again."
# Slack waits 3 s for a submission's answer, then shows the user an error; whatever is still
# checking then must stop (answering "slow" in the form), not run a command nobody sees asked.
CHECK_SECONDS = 2.5
SLOW = "Wallaroo is slow to answer right now, so nothing was done; submit again in a moment."
_ID = re.compile(r"^[0-9]{1,18}$")


@dataclass(frozen=True)
class Submission:
    """A form read and checked: the command to run as `actor`, and the audit row's text."""

    actor: Actor
    text: str
    command: Command


def submitter(body: dict[str, Any], channel: str = "") -> Actor:
    user = body.get("user") or {}
    team = body.get("team") or {}
    return Actor(
        user_id=str(user.get("id") or ""),
        user_name=str(user.get("username") or user.get("name") or ""),
        team_id=str(team.get("id") or user.get("team_id") or ""),
        channel_id=channel,
    )


def read_metadata(raw: object) -> dict[str, Any] | None:
    """A view's private_metadata as the bot wrote it (a JSON object), or None: Slack returns
    it as sent, so anything else was made up on the way."""
    if not isinstance(raw, str) or len(raw) > 3000:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def metadata_channel(metadata: dict[str, Any]) -> str | None:
    """The channel a form was opened in ("" from App Home), or None when it is not one."""
    channel = metadata.get("c")
    if channel == "" or (isinstance(channel, str) and is_channel_id(channel)):
        return channel
    return None


def metadata_id(metadata: dict[str, Any], key: str) -> int | None:
    value = metadata.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def as_id(value: object) -> int | None:
    """An option's value as the bot wrote it (a Wallaroo id), or None for anything else."""
    return int(value) if isinstance(value, str) and _ID.match(value) else None


def _element(view: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    values = ((view.get("state") or {}).get("values") or {}).get(block) or {}
    element = values.get(action) if isinstance(values, dict) else None
    return element if isinstance(element, dict) else {}


def typed(view: dict[str, Any], block: str, action: str) -> str:
    """What a text input holds, stripped ("" when empty)."""
    value = _element(view, block, action).get("value")
    return value.strip() if isinstance(value, str) else ""


def chosen(view: dict[str, Any], block: str, action: str) -> str:
    """The value of a select's chosen option, or of a conversation select ("" when none)."""
    element = _element(view, block, action)
    option = element.get("selected_option")
    if isinstance(option, dict) and isinstance(option.get("value"), str):
        return str(option["value"])
    conversation = element.get("selected_conversation")
    return conversation if isinstance(conversation, str) else ""


def plain(problem: CommandProblem | str) -> str:
    """A reply's mrkdwn as the plain line Slack shows under an input."""
    if isinstance(problem, CommandProblem):
        text = problem.message + (f" {problem.suggestion}" if problem.suggestion else "")
    else:
        text = problem
    return shorten(to_plain(text).replace("`", ""), ERROR_CHARS)


async def role_refusal(services: Services, actor: Actor, area: str, action: str) -> str | None:
    """Why `actor` may not submit this form (the router's own check, said in the form), or
    None when they may."""
    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
    needed = required_role(area, action)
    if allows(role, needed):
        return None
    return f"This needs the {needed} role; you are {role}. An admin can grant it."


async def audit_form(
    services: Services, actor: Actor, form: str, area: str, action: str, outcome: Outcome, why: str
) -> None:
    """The row of a submission that ran nothing: refused, or forged."""
    await record_click(
        services,
        actor,
        text=f"[modal] {form}",
        area=area,
        action=action,
        target=shorten(why, 200),
        outcome=outcome,
        started=None,
    )


async def run_submission(services: Services, submission: Submission) -> Reply:
    """Run the checked command as typed and tell the submitter what came of it."""
    actor = submission.actor

    async def deliver(reply: Reply) -> None:
        try:
            if actor.channel_id:
                await services.chat.post_ephemeral(actor.channel_id, actor.user_id, reply)
            else:  # from App Home: the app's direct messages with the user
                await services.chat.post(actor.user_id, reply)
        except ChatError as exc:  # the command ran (and is audited) all the same
            logger.warning("telling %s what their form did failed: %s", actor.user_id, exc)

    return await handle_command(
        services, actor, submission.text, deliver, command=submission.command
    )

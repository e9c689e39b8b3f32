"""One command in, one reply out: parse, check the role, run its handler, audit it all.

Slack (HTTP and Socket Mode) and the console call `handle_command`; nothing here knows which.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from handlers.commands import dispatch
from handlers.commands.grammar import Command, ParseError, parse_command
from handlers.commands.permissions import required_role
from handlers.context import Actor, Answer, Context, Services, answer_for_error
from handlers.render.blocks import Reply, error_reply
from handlers.render.mrkdwn import escape
from storage.audit import Outcome
from storage.roles import allows, effective_role

logger = logging.getLogger(__name__)

Deliver = Callable[[Reply], Awaitable[None]]


async def handle_command(
    services: Services, actor: Actor, text: str, deliver: Deliver | None = None
) -> Reply:
    """The reply to one `/wallaroo` command. Never raises for anything the user typed.

    `deliver` (Slack's respond, say) gets the reply before the audit entry is written, so the
    user never waits on the log; the entry is still written before this returns.
    """
    started = time.perf_counter()
    reply, entry = await _decide(services, actor, text)
    services.metrics.commands.labels(entry["area"] or "unparsed", entry["outcome"]).inc()
    if deliver is not None:
        await deliver(reply)
    duration_ms = int((time.perf_counter() - started) * 1000)
    logger.info(
        "command %s %s: %s",
        entry["area"] or "-",
        entry["action"] or "-",
        entry["outcome"],
        extra={"user": actor.user_id, "duration_ms": duration_ms, **entry},
    )
    await services.audit.record(
        **actor.audit_fields(),
        command_text=text,
        duration_ms=int((time.perf_counter() - started) * 1000),
        **entry,
    )
    return reply


async def _decide(services: Services, actor: Actor, text: str) -> tuple[Reply, dict[str, Any]]:
    """The reply, and what the audit entry says about it."""
    parsed = parse_command(text)
    if isinstance(parsed, ParseError):
        return error_reply(parsed.message, parsed.suggestion), _entry("", "", "", Outcome.INVALID)

    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
    needed = required_role(parsed.area, parsed.action)
    if not allows(role, needed):
        message = f"`{escape(_verb(parsed))}` needs the *{needed}* role; you are *{role}*."
        hint = f"An admin can run `/wallaroo access grant @you {needed}`."
        return error_reply(message, hint), _entry(parsed.area, parsed.action, "", Outcome.REFUSED)

    outcome, wallaroo_error = await _run(Context(services, actor, role), parsed)
    entry = _entry(parsed.area, parsed.action, outcome.target, outcome.outcome, wallaroo_error)
    return outcome.reply, entry


def _entry(
    area: str, action: str, target: str, outcome: Outcome, wallaroo_error: str | None = None
) -> dict[str, Any]:
    return {
        "area": area,
        "action": action,
        "target": target,
        "outcome": outcome,
        "wallaroo_error": wallaroo_error,
    }


async def _run(ctx: Context, command: Command) -> tuple[Answer, str | None]:
    try:
        return await dispatch.run(ctx, command.args), None
    except Exception as exc:
        return answer_for_error(ctx.services, exc, f"command {command.text!r}")


def _verb(command: Command) -> str:
    words = command.text.strip().split()
    if words and words[0] == "/wallaroo":
        words = words[1:]
    return " ".join(words[:2]) or command.area

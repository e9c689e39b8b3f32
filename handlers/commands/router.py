"""One command in, one reply out: parse, check the role, run its handler, audit it all.

Slack (HTTP and Socket Mode) and the console call `handle_command`; nothing here knows which.

A write fails closed: its intent is appended to the audit log before its handler runs, and if
that append fails nothing runs and the reply says why. Its outcome is a second row naming the
intent (`target` ends in `(intent #N)`). Reads, refusals and unparsed input are one row each,
written after the reply, and still answered while the log is down (the failure is logged):
they change nothing, and "audit" itself must stay readable when something is wrong.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from handlers.commands import dispatch
from handlers.commands.grammar import Command, ParseError, parse_command
from handlers.commands.modal_forms import Form, form_for
from handlers.commands.permissions import required_role
from handlers.commands.specs import LISTINGS
from handlers.context import (
    Actor,
    Answer,
    Context,
    Services,
    answer_for_error,
    record_intent,
    unaudited_reply,
)
from handlers.render.blocks import Reply, error_reply
from handlers.render.mrkdwn import escape
from storage.audit import AuditEntry, AuditUnavailable, Outcome, outcome_target
from storage.roles import Role, allows, effective_role

logger = logging.getLogger(__name__)

Deliver = Callable[[Reply], Awaitable[None]]
# The answer when a command opened a form instead: nothing is posted, the form is the answer.
FORM_OPENED = Reply(text="Opened the form.")


def is_write(area: str, action: str) -> bool:
    """Whether a command changes something: it needs more than a viewer and lists nothing
    (`access list` and `audit` are admin-only reads)."""
    return required_role(area, action) is not Role.VIEWER and action not in LISTINGS


async def handle_command(
    services: Services,
    actor: Actor,
    text: str,
    deliver: Deliver | None = None,
    *,
    command: Command | None = None,
) -> Reply:
    """The reply to one `/wallaroo` command. Never raises for anything the user typed.

    `deliver` (Slack's respond, say) gets the reply before the (outcome) audit row is written,
    so the user never waits on it; the row is still written before this returns. A form's
    submission passes the `command` it read, already checked (`text` is then what the audit
    row says was asked); it is run exactly as the same command typed.
    """
    started = time.perf_counter()
    try:
        reply, entry, intent = await _decide(services, actor, text, command)
    except AuditUnavailable as exc:
        # No intent row, so nothing ran; a row saying so could not be written either.
        logger.error("command refused, the audit log cannot be written: %s", exc)
        services.metrics.commands.labels("unaudited", Outcome.ERROR).inc()
        reply = unaudited_reply(exc)
        if deliver is not None:
            await deliver(reply)
        return reply
    services.metrics.commands.labels(entry["area"] or "unparsed", entry["outcome"]).inc()
    if deliver is not None and reply is not FORM_OPENED:
        await deliver(reply)
    duration_ms = int((time.perf_counter() - started) * 1000)
    logger.info(
        "command %s %s: %s",
        entry["area"] or "-",
        entry["action"] or "-",
        entry["outcome"],
        extra={"user": actor.user_id, "duration_ms": duration_ms, **entry},
    )
    entry["target"] = outcome_target(entry["target"], intent)
    try:
        await services.audit.record(
            **actor.audit_fields(),
            command_text=text,
            duration_ms=int((time.perf_counter() - started) * 1000),
            **entry,
        )
    except AuditUnavailable as exc:
        what = f"intent #{intent.id}'s outcome" if intent is not None else "a read's row"
        logger.error("audit log: %s could not be written: %s", what, exc)
    return reply


async def _decide(
    services: Services, actor: Actor, text: str, command: Command | None = None
) -> tuple[Reply, dict[str, Any], AuditEntry | None]:
    """The reply, what the audit entry says about it, and the intent row of a write."""
    parsed = command or parse_command(text)
    form = None if command is not None else form_for(text, parsed)
    if form is not None:
        opened = await _open_form(services, actor, form)
        if opened is not None:
            return opened[0], opened[1], None
    if isinstance(parsed, ParseError):
        entry = _entry("", "", "", Outcome.INVALID)
        return error_reply(parsed.message, parsed.suggestion), entry, None

    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
    needed = required_role(parsed.area, parsed.action)
    if not allows(role, needed):
        message = f"`{escape(_verb(parsed))}` needs the *{needed}* role; you are *{role}*."
        hint = f"An admin can run `/wallaroo access grant @you {needed}`."
        entry = _entry(parsed.area, parsed.action, "", Outcome.REFUSED)
        return error_reply(message, hint), entry, None

    intent = None
    if is_write(parsed.area, parsed.action):
        intent = await record_intent(
            services, actor, text=text, area=parsed.area, action=parsed.action
        )
    outcome, wallaroo_error = await _run(Context(services, actor, role), parsed)
    entry = _entry(parsed.area, parsed.action, outcome.target, outcome.outcome, wallaroo_error)
    return outcome.reply, entry, intent


async def _open_form(
    services: Services, actor: Actor, form: Form
) -> tuple[Reply, dict[str, Any]] | None:
    """A form opened (or refused, or failed) and its audit entry; None when none could open,
    so the command is answered as typed (always, where nothing can open one: the console)."""
    if not actor.trigger_id:
        return None
    async with services.sessions() as session:
        role = await effective_role(session, actor.user_id, services.admins)
    needed = required_role(form.area, form.action)
    if not allows(role, needed):
        message = f"`{form.verb}` needs the *{needed}* role; you are *{role}*."
        hint = f"An admin can run `/wallaroo access grant @you {needed}`."
        return error_reply(message, hint), _entry(form.area, form.action, "", Outcome.REFUSED)
    try:
        view_id = await form.open(Context(services, actor, role))
    except Exception as exc:
        answer, wallaroo_error = answer_for_error(services, exc, f"opening the {form.verb} form")
        entry = _entry(form.area, form.action, "form", answer.outcome, wallaroo_error)
        return answer.reply, entry
    if view_id is None:
        return None
    return FORM_OPENED, _entry(form.area, form.action, f"form {view_id}", Outcome.OK)


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

"""What every handler gets (who asks, with what role, through which services) and returns."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.metrics import Metrics
from bot.settings import Settings
from bot.tasks import BackgroundTasks
from bot.wallaroo import WallarooClient, WallarooError, WallarooUnreachable
from handlers.chat import Chat
from handlers.render.blocks import Reply, error_reply
from handlers.render.mrkdwn import escape
from storage.audit import AuditEntry, AuditLog, AuditUnavailable, Outcome, Who, outcome_target
from storage.roles import Role
from storage.utc import utc_now

logger = logging.getLogger(__name__)
BOT_FAILED = "Something went wrong in the bot itself; it has been logged."


@dataclass(frozen=True)
class Services:
    settings: Settings
    wallaroo: WallarooClient
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    audit: AuditLog
    metrics: Metrics
    chat: Chat
    tasks: BackgroundTasks
    # Where the bot reads the time when it decides by it (approval expiry, snoozes, reminders,
    # episode times): an aware UTC datetime. Tests pass a clock they move forward.
    clock: Callable[[], datetime] = utc_now

    @property
    def admins(self) -> frozenset[str]:
        return self.settings.admin_user_ids


@dataclass(frozen=True)
class Actor:
    """The Slack user behind a command or click, and where they are."""

    user_id: str
    user_name: str = ""
    team_id: str = ""
    channel_id: str = ""
    # Slack's slash command or click that can open a modal (views.open); "" elsewhere. Not
    # audited: it identifies nothing after its few seconds.
    trigger_id: str = ""

    def audit_fields(self) -> Who:
        """Who and where, as every audit row of this actor's commands and clicks says it."""
        return {
            "slack_user_id": self.user_id,
            "slack_user_name": self.user_name,
            "team_id": self.team_id,
            "channel_id": self.channel_id,
        }


# What the bot itself does (carrying out an approved change) is audited as this actor.
BOT_ACTOR = Actor(user_id="bot", user_name="wallaroo-chatops")


@dataclass(frozen=True)
class Context:
    services: Services
    actor: Actor
    role: Role


@dataclass(frozen=True)
class Answer:
    """A handler's reply plus what the audit log should say about it."""

    reply: Reply
    target: str = ""
    outcome: Outcome = Outcome.OK


class CommandProblem(Exception):
    """Input that parsed but cannot be acted on: an unknown name, an ambiguous one."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


def answer_for_error(
    services: Services,
    exc: Exception,
    doing: str,
    wallaroo_reply: Callable[[WallarooError], Reply] | None = None,
) -> tuple[Answer, str | None]:
    """The answer to an exception a handler raised, and the Wallaroo error for the audit row.

    Input that cannot be acted on is `invalid`; a Wallaroo failure says what Wallaroo said (or,
    with `wallaroo_reply`, what the caller knows about it); anything else is a bug of ours: a
    plain answer for the user, the trace (under `doing`) for the log.
    """
    if isinstance(exc, CommandProblem):
        return Answer(error_reply(exc.message, exc.suggestion), outcome=Outcome.INVALID), None
    if isinstance(exc, WallarooError):
        services.metrics.wallaroo_errors.labels(type(exc).__name__).inc()
        reply = (wallaroo_reply or reply_for_wallaroo_error)(exc)
        return Answer(reply, outcome=Outcome.ERROR), exc.msg
    logger.error("%s failed", doing, exc_info=exc)
    return Answer(error_reply(BOT_FAILED), outcome=Outcome.ERROR), None


def reply_for_wallaroo_error(exc: WallarooError) -> Reply:
    if isinstance(exc, WallarooUnreachable):
        # A write whose answer was lost may still have happened, so do not promise otherwise.
        return error_reply(
            f"Wallaroo is unreachable right now ({escape(exc.msg)}).",
            "Try again in a minute; if you were changing something, check first whether it "
            "went through.",
        )
    # str(exc) names the call and carries Wallaroo's own message, credentials removed.
    return error_reply(escape(str(exc)))


def unaudited_reply(exc: AuditUnavailable) -> Reply:
    """The refusal of a write whose intent could not be audited: nothing was changed."""
    return error_reply(
        f"The audit log cannot be written, so nothing was changed: {escape(str(exc))}.",
        "Try again once the bot's database takes writes again (its `/readyz` says so).",
    )


async def record_intent(
    services: Services, actor: Actor, *, text: str, area: str, action: str
) -> AuditEntry:
    """Append a write's intent before anything is changed; `AuditUnavailable` means the write
    must not happen (fail closed). Its outcome row names it (`outcome_target`)."""
    return await services.audit.record(
        **actor.audit_fields(),
        command_text=text,
        area=area,
        action=action,
        target="",
        outcome=Outcome.INTENT,
        duration_ms=0,
    )


async def record_click(
    services: Services,
    actor: Actor,
    *,
    text: str,
    area: str,
    action: str,
    target: str,
    outcome: Outcome,
    started: float | None,
    wallaroo_error: str | None = None,
    intent: AuditEntry | None = None,
) -> None:
    """Count and audit a button click (or dialog) the way the router does a command: the
    outcome row of `intent` for a click that changed something, else a row of its own."""
    services.metrics.commands.labels(area, outcome).inc()
    try:
        await services.audit.record(
            **actor.audit_fields(),
            command_text=text,
            area=area,
            action=action,
            target=outcome_target(target, intent),
            outcome=outcome,
            duration_ms=int((time.perf_counter() - started) * 1000) if started else 0,
            wallaroo_error=wallaroo_error,
        )
    except AuditUnavailable as exc:
        # The click is answered anyway: a refusal changed nothing, and a change's intent is in.
        logger.error("audit log: the row of %r could not be written: %s", text, exc)

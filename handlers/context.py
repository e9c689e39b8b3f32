"""What every handler gets (who asks, with what role, through which services) and returns."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.metrics import Metrics
from bot.settings import Settings
from bot.tasks import BackgroundTasks
from bot.wallaroo import WallarooClient
from handlers.chat import Chat
from handlers.render.blocks import Reply
from storage.audit import AuditLog
from storage.roles import Role


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
    outcome: str = "ok"


class CommandProblem(Exception):
    """Input that parsed but cannot be acted on: an unknown name, an ambiguous one."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


async def record_click(
    services: Services,
    actor: Actor,
    *,
    text: str,
    area: str,
    action: str,
    target: str,
    outcome: str,
    started: float | None,
    wallaroo_error: str | None = None,
) -> None:
    """Count and audit a button click (or dialog) the way the router does a command."""
    services.metrics.commands.labels(area, outcome).inc()
    await services.audit.record(
        slack_user_id=actor.user_id,
        slack_user_name=actor.user_name,
        team_id=actor.team_id,
        channel_id=actor.channel_id,
        command_text=text,
        area=area,
        action=action,
        target=target,
        outcome=outcome,  # type: ignore[arg-type]
        duration_ms=int((time.perf_counter() - started) * 1000) if started else 0,
        wallaroo_error=wallaroo_error,
    )


def page_of(args: dict[str, object]) -> int:
    """The `page N` a list command was given (1 when none)."""
    page = args.get("page")
    return page if isinstance(page, int) and page > 0 else 1

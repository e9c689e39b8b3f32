"""The one place the bot's long-lived objects are built, and closed again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat import Chat, ConsoleChat, SlackChat, build_web_client
from bot.metrics import Metrics
from bot.settings import Settings
from bot.tasks import BackgroundTasks
from bot.wallaroo import WallarooClient, build_http_client, build_wallaroo_client
from storage.audit import AuditLog
from storage.database import make_engine, session_factory
from storage.migrate import upgrade_database


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


@asynccontextmanager
async def open_services(settings: Settings, chat: Chat | None = None) -> AsyncIterator[Services]:
    """Everything a bot process shares. `chat` defaults to Slack when a bot token is set and
    to this terminal otherwise. Work left unfinished by an earlier process is resumed."""
    # Imported here: the approvals flow renders replies, and handlers import this module.
    from bot.rollout import resume_in_flight

    http = build_http_client()
    engine = make_engine(settings.database_url)
    tasks = BackgroundTasks()
    if chat is None:
        chat = SlackChat(build_web_client(settings)) if settings.slack_bot_token else ConsoleChat()
    try:
        await upgrade_database(engine)  # the newest schema, whatever version made the file
        sessions = session_factory(engine)
        services = Services(
            settings=settings,
            wallaroo=build_wallaroo_client(settings, http),
            engine=engine,
            sessions=sessions,
            audit=AuditLog(sessions),
            metrics=Metrics(),
            chat=chat,
            tasks=tasks,
        )
        await resume_in_flight(services)
        yield services
    finally:
        await tasks.close()
        await http.aclose()
        await engine.dispose()

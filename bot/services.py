"""The one place the bot's long-lived objects are built, and closed again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from bot.chat.console import ConsoleChat
from bot.chat.slack import SlackChat, build_web_client
from bot.metrics import Metrics
from bot.settings import Settings
from bot.tasks import BackgroundTasks
from bot.wallaroo import build_http_client, build_wallaroo_client
from handlers.chat import Chat
from handlers.context import Services
from storage.audit import AuditLog
from storage.database import make_engine, session_factory
from storage.migrate import upgrade_database
from storage.utc import utc_now


@asynccontextmanager
async def open_services(
    settings: Settings, chat: Chat | None = None, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[Services]:
    """Everything a bot process shares. `chat` defaults to Slack when a bot token is set and
    to this terminal otherwise; `clock` is where it reads the time (tests move their own).
    It only builds: resuming unfinished work starts beside the poller
    (`bot.background.background_work`)."""
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
            audit=AuditLog(sessions, settings.audit_key),
            metrics=Metrics(),
            chat=chat,
            tasks=tasks,
            clock=clock,
        )
        yield services
    finally:
        await tasks.close()
        await http.aclose()
        await engine.dispose()

"""The one place the bot's long-lived objects are built, and closed again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.metrics import Metrics
from bot.settings import Settings
from bot.wallaroo import WallarooClient, build_http_client, build_wallaroo_client
from storage.audit import AuditLog
from storage.database import create_tables, make_engine, session_factory


@dataclass(frozen=True)
class Services:
    settings: Settings
    wallaroo: WallarooClient
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    audit: AuditLog
    metrics: Metrics

    @property
    def admins(self) -> frozenset[str]:
        return self.settings.admin_user_ids


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    http = build_http_client()
    engine = make_engine(settings.database_url)
    try:
        await create_tables(engine)
        sessions = session_factory(engine)
        yield Services(
            settings=settings,
            wallaroo=build_wallaroo_client(settings, http),
            engine=engine,
            sessions=sessions,
            audit=AuditLog(sessions),
            metrics=Metrics(),
        )
    finally:
        await http.aclose()
        await engine.dispose()

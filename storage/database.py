"""The database engine, its tables and its sessions, built once by whoever runs the process."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlmodel.ext.asyncio.session import AsyncSession

# Imported for their side effect: each module registers its tables on SQLModel.metadata, which
# the migrations (storage/migrations) create and compare against.
from storage import alerts, approvals, audit, leases, outbox, roles, watches  # noqa: F401

# Settings carry sync-style URLs (what people write and what migration tools expect); the bot
# runs on asyncio, so each is mapped to the async driver for the same database.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
}
_ASYNC_ALREADY = {"sqlite+aiosqlite", "postgresql+psycopg", "postgresql+asyncpg"}


def async_url(database_url: str) -> URL:
    """`database_url` with an asyncio driver: `sqlite:///f.db` -> `sqlite+aiosqlite:///f.db`."""
    url = make_url(database_url)
    if url.drivername in _ASYNC_ALREADY:
        return url
    if url.drivername in _ASYNC_DRIVERS:
        return url.set(drivername=_ASYNC_DRIVERS[url.drivername])
    raise ValueError(
        f"DATABASE_URL uses {url.drivername!r}, which has no asyncio driver here; "
        "use sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST/DB"
    )


def is_in_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


SQLITE_BUSY_SECONDS = 60.0


def make_engine(database_url: str) -> AsyncEngine:
    url = async_url(database_url)
    options: dict[str, Any] = {}
    if is_in_memory(url):
        # Every new SQLite connection to ":memory:" is a new, empty database; one shared
        # connection keeps all sessions on the same one.
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    if url.get_backend_name() == "sqlite" and not is_in_memory(url):
        # SQLite has one writer at a time; the poller's first sight of 5,000 subscribed assays
        # (a cursor row each, 64 at once) waited past sqlite3's default 5 s and failed with
        # "database is locked" (bench/poll.py --objects 10000). Writers queue longer instead.
        options = {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}}
    engine = create_async_engine(url, **options)
    if url.get_backend_name() == "sqlite" and not is_in_memory(url):
        event.listen(engine.sync_engine, "connect", _sqlite_wal)
    return engine


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while the audit log appends, and synchronous=NORMAL skips the
    # fsync on every commit (still durable across a crash of the process, not of the host):
    # 100 concurrent audit appends took 0.5 s without this.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


async def has_table(engine: AsyncEngine, name: str) -> bool:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: inspect(sync).has_table(name))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Rows are handed to reply renderers after the commit; expiring them would make each
    # attribute access a lazy load, which an AsyncSession cannot do.
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

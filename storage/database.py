"""The database engine, its tables and its sessions, built once by whoever runs the process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlmodel.ext.asyncio.session import AsyncSession

# Imported for their side effect: each module registers its tables on SQLModel.metadata, which
# the migrations (storage/migrations) create and compare against.
from storage import (  # noqa: F401
    alerts,
    approvals,
    audit,
    digests,
    leases,
    outbox,
    roles,
    seen_requests,
    watches,
)

# Settings carry sync-style URLs (what people write and what migration tools expect); the bot
# runs on asyncio, so each is mapped to the async driver for the same database.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
}
_ASYNC_ALREADY = {"sqlite+aiosqlite", "postgresql+psycopg", "postgresql+asyncpg"}


_URL_FORMS = "use sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST/DB"


class DatabaseUrlError(ValueError):
    """DATABASE_URL is no URL of a database the bot can use; the message says what to write."""


def async_url(database_url: str) -> URL:
    """`database_url` with an asyncio driver: `sqlite:///f.db` -> `sqlite+aiosqlite:///f.db`."""
    url = _parse(database_url)
    if url.drivername in _ASYNC_ALREADY:
        return url
    if url.drivername in _ASYNC_DRIVERS:
        return url.set(drivername=_ASYNC_DRIVERS[url.drivername])
    raise DatabaseUrlError(
        f"DATABASE_URL uses {url.drivername!r}, which has no asyncio driver here; {_URL_FORMS}"
    )


def _parse(database_url: str) -> URL:
    """DATABASE_URL parsed, or DatabaseUrlError. A password with a bare `@` (`u:p@ss@host`)
    is split at its first `@`, leaving part of the password in the host, where the driver's
    error ("failed to resolve host 'ss@host'") and any printed URL would show it: refused."""
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise DatabaseUrlError(f"DATABASE_URL is not a database URL; {_URL_FORMS}") from exc
    if "@" in (url.host or ""):
        raise DatabaseUrlError(
            "DATABASE_URL has an `@` after the user's; write one in a password as %40"
        )
    return url


# Query parameters libpq reads as secrets (`?password=…`), hidden like the URL's own password.
_SECRET_QUERY_KEYS = {"password", "sslpassword"}


def shown_url(database_url: str) -> str:
    """The URL to print: its passwords hidden (an unparsable one is not echoed at all)."""
    try:
        url = _parse(database_url)
    except DatabaseUrlError:
        return "DATABASE_URL"
    hidden = {key: "***" for key in url.query if key.lower() in _SECRET_QUERY_KEYS}
    return url.update_query_dict(hidden).render_as_string(hide_password=True)


def describe_database_error(exc: BaseException) -> str | None:
    """One line saying why the database could not be used, or None for other errors: the
    driver's own first line ('connection to server at "db", port 5432 failed: Connection
    refused'), without SQLAlchemy's wrapping and background link."""
    if isinstance(exc, DatabaseUrlError):
        return str(exc)
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig).strip().splitlines()[0]
    if isinstance(exc, SQLAlchemyError):
        return str(exc).strip().splitlines()[0]
    return None


def missing_sqlite_file(database_url: str) -> Path | None:
    """The file a SQLite URL names when it does not exist yet: connecting would create it,
    which a read-only command must not do."""
    url = async_url(database_url)
    if url.get_backend_name() != "sqlite" or is_in_memory(url) or url.database is None:
        return None
    path = Path(url.database)
    return None if path.exists() else path


async def check_connection(engine: AsyncEngine) -> None:
    """Connect once and run `SELECT 1`; raises what the driver raised."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


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
    if url.get_backend_name() == "postgresql":
        # After a PostgreSQL restart every pooled connection is dead; without a ping the first
        # request on each failed (bench/soak.py saw a signed command refused so).
        options["pool_pre_ping"] = True
    try:
        engine = create_async_engine(url, **options)
    except ModuleNotFoundError as exc:  # postgresql+asyncpg without asyncpg installed, say
        raise DatabaseUrlError(
            f"DATABASE_URL's driver {url.drivername!r} is not installed ({exc}); {_URL_FORMS}"
        ) from exc
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

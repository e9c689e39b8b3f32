"""`wallaroo-chatops db …` and `audit …`, and the one-line answer every command gives when the
database DATABASE_URL names cannot be used (no traceback, exit 2)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bot.settings import Settings

if TYPE_CHECKING:  # SQLAlchemy is loaded only by the commands that use the database
    from storage.audit import ChainReport

# Exit status for "could not start": a setting or the database is wrong.
EXIT_UNUSABLE = 2


def add_database_parsers(
    commands: argparse._SubParsersAction, formatter: type[argparse.HelpFormatter]
) -> None:
    audit = commands.add_parser(
        "audit",
        help="export or verify the audit log",
        description="Read the audit log in the database DATABASE_URL names.",
        formatter_class=formatter,
    )
    actions = audit.add_subparsers(dest="audit_action", metavar="ACTION")
    export = actions.add_parser(
        "export",
        help="write every audit row to stdout, oldest first",
        description="Write every audit row to stdout, oldest first.",
        formatter_class=formatter,
    )
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="row format")
    verify = actions.add_parser(
        "verify",
        help="check the hash chain; exit 1 naming the first edited, deleted or moved row",
        description=(
            "Check the hash chain (keyed rows with CHATOPS_AUDIT_KEY) and print its head hash "
            "and row count; exit 1 naming the first edited, forged, deleted or moved row."
        ),
        formatter_class=formatter,
    )
    verify.add_argument(
        "--expect",
        metavar="HASH",
        default=None,
        help="a head hash recorded earlier (an anchor): exit 1 unless the chain holds it",
    )
    audit.set_defaults(run=_run_audit, usage=audit)

    db = commands.add_parser(
        "db",
        help="database migrations",
        description="Migrate the database DATABASE_URL names (every start does this too).",
        formatter_class=formatter,
    )
    actions = db.add_subparsers(dest="db_action", metavar="ACTION")
    actions.add_parser("upgrade", help="bring the database to the newest schema")
    actions.add_parser("current", help="print the database's schema revision")
    db.set_defaults(run=_run_db, usage=db)


def on_database(database_url: str, work: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run `work`; a database that cannot be used is one line on stderr and exit 2."""
    from storage.database import describe_database_error, shown_url

    try:
        return asyncio.run(work())
    except Exception as exc:
        reason = describe_database_error(exc)
        if reason is None:
            raise
        where = shown_url(database_url)
        at = "" if where == "DATABASE_URL" else f" at DATABASE_URL={where}"
        print(f"cannot use the database{at}: {reason}", file=sys.stderr)
        return EXIT_UNUSABLE


def database_usable(settings: Settings) -> bool:
    """Connect once before a long-running command starts, so that a wrong DATABASE_URL or a
    database that is down is one clear line, not a failed start-up's traceback."""
    from storage.database import check_connection, make_engine

    async def check() -> int:
        engine = make_engine(settings.database_url)
        try:
            await check_connection(engine)
        finally:
            await engine.dispose()
        return 0

    return on_database(settings.database_url, check) == 0


def _run_db(args: argparse.Namespace) -> int:
    if args.db_action is None:
        args.usage.print_help(sys.stderr)
        return EXIT_UNUSABLE
    database_url = Settings().database_url
    return on_database(database_url, lambda: _db(args.db_action, database_url))


async def _db(action: Literal["upgrade", "current"], database_url: str) -> int:
    from storage.database import make_engine, missing_sqlite_file, shown_url
    from storage.migrate import current_revision, head_revision, upgrade_database

    shown = shown_url(database_url)
    newest = head_revision()
    if action == "current" and (missing := missing_sqlite_file(database_url)) is not None:
        # Connecting would create an empty file; asking must not change anything.
        print(
            f"{shown} does not exist yet ({missing}): revision none, newest is {newest}; "
            "`db upgrade`, or any start, creates it"
        )
        return 0
    engine = make_engine(database_url)
    try:
        if action == "upgrade":
            await upgrade_database(engine)
        revision = await current_revision(engine)
    finally:
        await engine.dispose()
    state = "the newest" if revision == newest else f"newest is {newest}"
    print(f"{shown} is at revision {revision or 'none'} ({state})")
    return 0


def _run_audit(args: argparse.Namespace) -> int:
    if args.audit_action is None:
        args.usage.print_help(sys.stderr)
        return EXIT_UNUSABLE
    settings = Settings()
    database_url = settings.database_url
    fmt = getattr(args, "format", "jsonl")
    check = _Check(settings.audit_key, getattr(args, "expect", None))
    return on_database(database_url, lambda: _audit(args.audit_action, fmt, database_url, check))


@dataclass(frozen=True)
class _Check:
    key: bytes | None
    expect: str | None


async def _audit(
    action: Literal["export", "verify"], fmt: str, database_url: str, check: _Check
) -> int:
    # Imported here: the other commands never need SQLAlchemy loaded.
    from storage.audit import AuditEntry, ExportFormat, export_entries, verify_chain
    from storage.database import (
        has_table,
        make_engine,
        missing_sqlite_file,
        session_factory,
        shown_url,
    )

    # Creating the table (or the file) here would make a mistyped DATABASE_URL look like an
    # empty, good log.
    if missing_sqlite_file(database_url) is not None:
        print(f"no audit log in {shown_url(database_url)} (no such file)", file=sys.stderr)
        return EXIT_UNUSABLE
    engine = make_engine(database_url)
    try:
        if not await has_table(engine, AuditEntry.__tablename__):
            print(f"no audit log in {shown_url(database_url)}", file=sys.stderr)
            return EXIT_UNUSABLE
        async with session_factory(engine)() as session:
            if action == "export":
                try:
                    async for line in export_entries(session, ExportFormat(fmt)):
                        sys.stdout.write(line)
                    sys.stdout.flush()
                except BrokenPipeError:
                    _stdout_to_devnull()
                return 0
            report = await verify_chain(session, check.key, check.expect)
    finally:
        await engine.dispose()
    return _print_report(report, check.expect)


def _print_report(report: ChainReport, expect: str | None) -> int:
    if report.needs_key:
        print(f"audit log row {report.first_bad_id}: {report.problem}", file=sys.stderr)
        return EXIT_UNUSABLE
    if not report.ok:
        print(f"audit log BROKEN at row {report.first_bad_id}: {report.problem}")
        return 1
    print(f"audit log OK: {report.rows_checked} rows, head {report.last_hash or 'none'}")
    if expect is not None and not report.expected_found:
        # A head recorded earlier that no row has: rows were cut off the end, or rewritten.
        print(f"audit log BROKEN: no row has the expected hash {expect} (truncated or rewritten)")
        return 1
    return 0


def _stdout_to_devnull() -> None:
    # The reader stopped early (`audit export | head -3`): its right, not an error. Python
    # would hit the closed pipe again flushing stdout at exit, so stdout goes nowhere now.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

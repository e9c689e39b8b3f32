"""`wallaroo-chatops` (also `python -m bot`): the one entry point for every process."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Literal

from pydantic import ValidationError

from bot.settings import Settings
from emulator.config import (
    API_MODES,
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    EmulatorConfig,
)


def _emulator_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "emulator",
        help="run the local Wallaroo MLOps API emulator",
        description="Serve a local Wallaroo MLOps API (token endpoint included).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--admin-email", default=DEFAULT_ADMIN_EMAIL)
    parser.add_argument("--admin-password", default=DEFAULT_ADMIN_PASSWORD)
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument(
        "--database", default=":memory:", help="SQLite file for the state (default: in memory)"
    )
    parser.add_argument(
        "--startup-seconds",
        type=float,
        default=5.0,
        help="how long a deployment stays Starting before it is Running",
    )
    parser.add_argument(
        "--startup-error-seconds",
        type=float,
        default=0.0,
        help="report Error for the first this many seconds of a start-up (a transient Error)",
    )
    parser.add_argument("--token-seconds", type=int, default=3600, help="access token lifetime")
    parser.add_argument(
        "--seed-demo",
        action="store_true",
        help="load the drift demo: workspace housepricedrift, pipeline housepricepipe, an assay",
    )
    parser.add_argument(
        "--api",
        choices=API_MODES,
        default="current",
        help="answer as today's Wallaroo (current, assays v2) or as the 2022 tutorial (seed)",
    )
    parser.set_defaults(run=_run_emulator)


def emulator_config(args: argparse.Namespace) -> EmulatorConfig:
    """The `emulator` command's flags as the emulator's config."""
    return EmulatorConfig(
        admin_email=args.admin_email,
        admin_password=args.admin_password,
        client_id=args.client_id,
        client_secret=args.client_secret,
        database=args.database,
        deployment_startup_seconds=args.startup_seconds,
        deployment_startup_error_seconds=args.startup_error_seconds,
        access_token_seconds=args.token_seconds,
        control_api_everywhere=False,
        seed_demo=args.seed_demo,
        api=args.api,
    )


_API_NAMES = {"current": "today's Wallaroo, assays v2", "seed": "the 2022 tutorial's Wallaroo"}


def _run_emulator(args: argparse.Namespace) -> int:
    # Imported here: the bot's own processes never load the emulator's server stack.
    from emulator.app import create_app
    from emulator.server import serve_forever

    config = emulator_config(args)
    base = f"http://{args.host}:{args.port}"
    print(f"Wallaroo emulator on {base} (answering as {_API_NAMES[args.api]})")
    print("Point the bot at it with:")
    print(f"  WALLAROO_URL={base}")
    # The emulator's default secret is a published test value; one chosen with --client-secret
    # is the user's own and is not echoed.
    if args.client_secret == DEFAULT_CLIENT_SECRET:
        print(f"  WALLAROO_CLIENT_SECRET={args.client_secret}")
    else:
        print("  WALLAROO_CLIENT_SECRET=<the --client-secret you gave>")
    print(f"  admin: {args.admin_email}   client: {args.client_id}")
    if args.seed_demo:
        print("  demo: workspace housepricedrift, pipeline housepricepipe, assay 'example assay'")
    serve_forever(create_app(config), args.host, args.port)
    return 0


def _audit_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "audit",
        help="export or verify the audit log",
        description="Read the audit log in the database DATABASE_URL names.",
    )
    actions = parser.add_subparsers(dest="audit_action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write every audit row to stdout, oldest first")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    actions.add_parser(
        "verify", help="check the hash chain; exit 1 naming the first edited, deleted or moved row"
    )
    parser.set_defaults(run=_run_audit)


def _db_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "db",
        help="database migrations",
        description="Migrate the database DATABASE_URL names (every start does this too).",
    )
    actions = parser.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="bring the database to the newest schema")
    actions.add_parser("current", help="print the database's schema revision")
    parser.set_defaults(run=_run_db)


def _run_db(args: argparse.Namespace) -> int:
    return asyncio.run(_db(args.db_action))


async def _db(action: Literal["upgrade", "current"]) -> int:
    from sqlalchemy.engine import make_url

    from storage.database import make_engine
    from storage.migrate import current_revision, head_revision, upgrade_database

    database_url = Settings().database_url
    shown = make_url(database_url).render_as_string(hide_password=True)
    engine = make_engine(database_url)
    try:
        if action == "upgrade":
            await upgrade_database(engine)
        revision = await current_revision(engine)
    finally:
        await engine.dispose()
    newest = "the newest" if revision == head_revision() else f"newest is {head_revision()}"
    print(f"{shown} is at revision {revision or 'none'} ({newest})")
    return 0


def _run_audit(args: argparse.Namespace) -> int:
    return asyncio.run(_audit(args.audit_action, getattr(args, "format", "jsonl")))


async def _audit(action: Literal["export", "verify"], fmt: Literal["jsonl", "csv"]) -> int:
    # Imported here: the other commands never need SQLAlchemy loaded.
    from sqlalchemy.engine import make_url

    from storage.audit import AuditEntry, export_entries, verify_chain
    from storage.database import has_table, make_engine, session_factory

    database_url = Settings().database_url
    engine = make_engine(database_url)
    try:
        # Creating the table here would make a mistyped DATABASE_URL look like an empty, good log.
        if not await has_table(engine, AuditEntry.__tablename__):
            shown = make_url(database_url).render_as_string(hide_password=True)
            print(f"no audit log in {shown}", file=sys.stderr)
            return 2
        async with session_factory(engine)() as session:
            if action == "export":
                async for line in export_entries(session, fmt):
                    sys.stdout.write(line)
                return 0
            report = await verify_chain(session)
    finally:
        await engine.dispose()
    if report.ok:
        print(f"audit log OK: {report.rows_checked} rows")
        return 0
    print(f"audit log BROKEN at row {report.first_bad_id}: {report.problem}")
    return 1


def _console_parsers(commands: argparse._SubParsersAction) -> None:
    for name, help_text in (
        ("demo", "the seeded emulator, the bot and the console together (no Slack needed)"),
        ("console", "the console against the configured Wallaroo (WALLAROO_API_URL, ...)"),
    ):
        parser = commands.add_parser(name, help=help_text, description=help_text)
        parser.add_argument(
            "--as",
            dest="as_user",
            default="UDEMOADMIN" if name == "demo" else "UCONSOLE",
            metavar="USER_ID",
            help="the Slack user id to act as",
        )
        parser.set_defaults(run=_run_demo if name == "demo" else _run_console)


def _run_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo(args.as_user)


def _run_console(args: argparse.Namespace) -> int:
    from bot.demo import run_console_command

    return run_console_command(args.as_user)


def _slack_parsers(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="HTTP mode: POST /slack/events, GET /healthz")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.set_defaults(run=_run_serve)
    socket = commands.add_parser("socket", help="Socket Mode (one process; needs SLACK_APP_TOKEN)")
    socket.set_defaults(run=_run_socket)


def _run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.http import create_http_app
    from bot.logs import configure_logging
    from bot.settings import Settings

    settings = Settings()
    missing = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
        )
        if value is None
    ]
    if missing:
        print(
            f"serve needs {' and '.join(missing)} (see README: Install in Slack); "
            "`wallaroo-chatops demo` runs without Slack.",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings.chatops_log_format, settings.chatops_log_level)
    uvicorn.run(
        create_http_app(settings),
        host=args.host,
        port=args.port,
        access_log=False,
        log_config=None,  # keep our handler: JSON lines with request ids
    )
    return 0


def _run_socket(args: argparse.Namespace) -> int:
    import asyncio

    from bot.http import run_socket_mode
    from bot.logs import configure_logging
    from bot.settings import Settings

    settings = Settings()
    configure_logging(settings.chatops_log_format, settings.chatops_log_level)
    asyncio.run(run_socket_mode(settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wallaroo-chatops", description="Run a Wallaroo instance from Slack."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _console_parsers(commands)
    _slack_parsers(commands)
    _emulator_parser(commands)
    _audit_parser(commands)
    _db_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ValidationError as exc:
        # A bad setting (environment or .env): say which and why, not a traceback.
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper()
            print(f"setting {name}: {error['msg']}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

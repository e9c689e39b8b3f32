"""`wallaroo-chatops` (also `python -m bot`): the one entry point for every process."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot.cli_database import EXIT_UNUSABLE, add_database_parsers, database_usable
from bot.settings import Settings
from emulator.config import (
    API_MODES,
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    EmulatorConfig,
)

# Every --help shows each option's default.
HELP_FORMAT = argparse.ArgumentDefaultsHelpFormatter


def _emulator_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "emulator",
        help="run the local Wallaroo MLOps API emulator",
        description="Serve a local Wallaroo MLOps API (token endpoint included).",
        formatter_class=HELP_FORMAT,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on")
    parser.add_argument(
        "--admin-email", default=DEFAULT_ADMIN_EMAIL, help="the admin user (also its username)"
    )
    parser.add_argument("--admin-password", default=DEFAULT_ADMIN_PASSWORD, help="its password")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help="the OAuth client's id")
    parser.add_argument(
        "--client-secret", default=DEFAULT_CLIENT_SECRET, help="the OAuth client's secret"
    )
    parser.add_argument(
        "--database", default=":memory:", help="SQLite file for the state (:memory: keeps none)"
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


def _console_parsers(commands: argparse._SubParsersAction) -> None:
    for name, help_text in (
        ("demo", "the seeded emulator, the bot and the console together (no Slack needed)"),
        ("console", "the console against the configured Wallaroo (WALLAROO_URL, ...)"),
    ):
        parser = commands.add_parser(
            name, help=help_text, description=help_text, formatter_class=HELP_FORMAT
        )
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

    settings = Settings()
    if not database_usable(settings):
        return EXIT_UNUSABLE
    return run_console_command(args.as_user, settings)


def _slack_parsers(commands: argparse._SubParsersAction) -> None:
    serve_help = "HTTP mode: POST /slack/events, GET /healthz, /readyz, /metrics"
    serve = commands.add_parser(
        "serve", help=serve_help, description=serve_help, formatter_class=HELP_FORMAT
    )
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on")
    serve.add_argument("--port", type=int, default=3000, help="port to listen on")
    serve.set_defaults(run=_run_serve)
    socket_help = "Socket Mode (one process; needs SLACK_APP_TOKEN)"
    socket = commands.add_parser(
        "socket", help=socket_help, description=socket_help, formatter_class=HELP_FORMAT
    )
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
    if not database_usable(settings):
        return EXIT_UNUSABLE
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
    if not database_usable(settings):
        return EXIT_UNUSABLE
    configure_logging(settings.chatops_log_format, settings.chatops_log_level)
    asyncio.run(run_socket_mode(settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wallaroo-chatops",
        description="Run a Wallaroo instance from Slack. `wallaroo-chatops demo` tries it out.",
        formatter_class=HELP_FORMAT,
    )
    # Not required: a bare command (or a bare `audit`, `db`) prints its list of actions.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _console_parsers(commands)
    _slack_parsers(commands)
    _emulator_parser(commands)
    add_database_parsers(commands, HELP_FORMAT)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except ValidationError as exc:
        # A bad setting (environment or .env): say which and why, not a traceback.
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper()
            print(f"setting {name}: {error['msg']}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C while starting or stopping (the console handles it at its own prompt).
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

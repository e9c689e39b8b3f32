"""`wallaroo-chatops` (also `python -m bot`): the one entry point for every process.

Each command imports what it runs only when it runs, so `--help`, `db` and `audit` start
without loading Slack, the Wallaroo client or the emulator.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot.cli_database import EXIT_UNUSABLE, add_database_parsers, database_usable
from bot.settings import Settings
from emulator.cli import add_emulator_parser

EMULATOR_COMMANDS = ("demo", "emulator")
OURS = ("bot", "handlers", "storage", "emulator")
# Every --help shows each option's default.
HELP_FORMAT = argparse.ArgumentDefaultsHelpFormatter


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

    from bot.adapters.http import create_http_app
    from bot.logs import configure_logging

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

    from bot.adapters.http import run_socket_mode
    from bot.logs import configure_logging

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
    add_emulator_parser(commands, HELP_FORMAT)
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
    except ModuleNotFoundError as exc:
        # `pip install wallaroo-chatops` alone leaves the emulator's packages out.
        if args.command not in EMULATOR_COMMANDS or (exc.name or "").split(".")[0] in OURS:
            raise
        print(
            f"`wallaroo-chatops {args.command}` needs the emulator's packages ({exc.name} is "
            "missing): pip install 'wallaroo-chatops[demo]'",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        # Ctrl-C while starting or stopping (the console handles it at its own prompt).
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""`wallaroo-chatops` (also `python -m bot`): the one entry point for every process."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from emulator.config import (
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
    parser.add_argument("--token-seconds", type=int, default=3600, help="access token lifetime")
    parser.add_argument(
        "--seed-demo",
        action="store_true",
        help="load the drift demo: workspace housepricedrift, pipeline housepricepipe, an assay",
    )
    parser.set_defaults(run=_run_emulator)


def _run_emulator(args: argparse.Namespace) -> int:
    # Imported here: the bot's own processes never load the emulator's server stack.
    from emulator.app import create_app
    from emulator.server import serve_forever

    config = EmulatorConfig(
        admin_email=args.admin_email,
        admin_password=args.admin_password,
        client_id=args.client_id,
        client_secret=args.client_secret,
        database=args.database,
        deployment_startup_seconds=args.startup_seconds,
        access_token_seconds=args.token_seconds,
        control_api_everywhere=False,
        seed_demo=args.seed_demo,
    )
    base = f"http://{args.host}:{args.port}"
    print(f"Wallaroo emulator on {base}")
    print(f"  WALLAROO_API_URL={base}/v1/api")
    print(f"  WALLAROO_TOKEN_URL={base}/auth/realms/master/protocol/openid-connect/token")
    print(f"  admin: {args.admin_email}   client: {args.client_id} (secret as configured)")
    if args.seed_demo:
        print("  demo: workspace housepricedrift, pipeline housepricepipe, assay 'example assay'")
    serve_forever(create_app(config), args.host, args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wallaroo-chatops", description="Run a Wallaroo instance from Slack."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _emulator_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

"""The `wallaroo-chatops emulator` command: its flags, their defaults, and starting it.

Only the standard library and `emulator.config` load with the CLI; the server stack (FastAPI,
ONNX Runtime: the `demo` extra) loads when the command runs.
"""

from __future__ import annotations

import argparse

from emulator.config import (
    API_MODES,
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEMO_STORIES,
    EmulatorConfig,
)


def add_emulator_parser(commands: argparse._SubParsersAction, formatter: type) -> None:
    """The `emulator` command of `wallaroo-chatops`, defined beside the emulator it starts."""
    parser = commands.add_parser(
        "emulator",
        help="run the local Wallaroo MLOps API emulator",
        description="Serve a local Wallaroo MLOps API (token endpoint included).",
        formatter_class=formatter,
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
        "--demo-story",
        choices=DEMO_STORIES,
        default="input-drift",
        help="what --seed-demo shows: the inputs drift from today's midnight (input-drift), or a "
        "new model version with a units bug is deployed at start-up (bad-release, as `demo`)",
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
        demo_story=args.demo_story,
        api=args.api,
    )


_API_NAMES = {"current": "today's Wallaroo, assays v2", "seed": "the 2022 tutorial's Wallaroo"}


def _run_emulator(args: argparse.Namespace) -> int:
    # Imported here: only this command loads the server stack (the `demo` extra's packages).
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
        assays = "'price assay' (1), 'example assay' (2)"
        if args.demo_story == "input-drift":
            assays = "'example assay' (1)"
        print(f"  demo ({args.demo_story}): workspace housepricedrift, pipeline housepricepipe,")
        print(f"  assays {assays}")
    serve_forever(create_app(config), args.host, args.port)
    return 0

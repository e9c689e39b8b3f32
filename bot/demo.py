"""`wallaroo-chatops demo`: the seeded emulator, the bot on a local SQLite file, the console.

Everything runs in this process on loopback and disappears at exit, so it works on a fresh
machine with no Slack and no Wallaroo.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import httpx

from bot.adapters.console import MetaCommand, run_console
from bot.background import background_work
from bot.chat.console import ConsoleChat
from bot.scheduler import Poller
from bot.services import open_services
from bot.settings import Settings
from handlers.context import Actor, Services
from handlers.render.times import when
from storage.utc import utc_now


def run_demo(user_id: str) -> int:
    # The emulator is imported only here and in the `emulator` command: the bot never needs it.
    from emulator.app import create_app
    from emulator.config import EmulatorConfig
    from emulator.server import serve_in_thread

    with tempfile.TemporaryDirectory(prefix="wallaroo-chatops-demo-") as tmp:
        # Today's Wallaroo (2024.4-2026 shapes, assays v2), as the teams using the bot run it.
        config = EmulatorConfig(
            seed_demo=True,
            demo_story="bad-release",
            model_dir=Path(tmp) / "models",
            api="current",
        )
        if sys.stdin.isatty():
            print("Starting the Wallaroo emulator with the bad-release demo…", flush=True)
        print(STORY, flush=True)
        with serve_in_thread(create_app(config)) as url:
            settings = Settings(
                wallaroo_url=url,
                wallaroo_client_id=config.client_id,
                wallaroo_client_secret=config.client_secret,
                wallaroo_username=None,
                wallaroo_password=None,
                database_url=f"sqlite:///{tmp}/chatops.db",
                # Two admins, so that one can approve what the other asks for (`:as UDEMOLEAD`);
                # any other id is a viewer, to see the refusals.
                chatops_admins="UDEMOADMIN,UDEMOLEAD",
                chatops_deploy_poll_seconds=0.5,
                chatops_poll_seconds=5,
                chatops_channel_pacing_seconds=0,
                # The demo's log lives and dies with its temporary folder: a key of its own
                # keys its chain, as a real deployment's should be.
                chatops_audit_key=secrets.token_hex(32),
            )
            return asyncio.run(serve_console(settings, user_id, poll=True, emulator_url=url))


class DemoClock:
    """The bot's clock in the demo: wall time moved as far as `:advance` moved the emulator's
    (both start at wall time), so a request made after `:advance 1d` expires an hour after the
    emulator's now, and requests, reminders and digests age with `:advance`."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utc_now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


STORY = (
    "Demo: housepricepipe served its version 1 for 30 days and has just deployed its version "
    "2, whose housepricemodel has a units bug (`versions housepricedrift housepricepipe`).\n"
    "Assay 1 (price assay: its predictions) alerts after `:advance 1d`; assay 2 (example "
    "assay: its inputs) stays Ok. `subscribe assay 1`, then `:advance 1d`."
)

ADVANCE = ":advance"
# How long `:advance` waits for the deploys being followed to see the moved clock (wall time).
FOLLOW_DEPLOYS_SECONDS = 15.0


def _advance_command(
    emulator_url: str, services: Services, poller: Poller, clock: DemoClock
) -> MetaCommand:
    """`:advance SECONDS` (or `:advance 1d`, `2h`): move the emulator's clock, let the deploys
    being followed finish (a rollback past its start-up is Running before the next poll, so a
    piped script's next `:advance` sees it done, not timing luck), then poll at once, so the
    demo's drift shows up as an alert right away."""

    async def advance(words: list[str]) -> str:
        seconds = _seconds(words[0]) if len(words) == 1 else None
        if seconds is None:
            return f"Usage: {ADVANCE} SECONDS (or 1d, 6h, 30m): moves the emulator's clock."
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{emulator_url}/emulator/clock", json={"advance_seconds": seconds}
            )
        now = response.json()["now"]
        clock.advance(seconds)  # the emulator's moved as much: the two agree again
        if seconds > 0 and services.tasks.running:
            # Bounded: a deploy that stays Starting or in Error is still followed afterwards.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(services.tasks.drain(), FOLLOW_DEPLOYS_SECONDS)
        await poller.poll_once()
        return f"The emulator's clock is now {when(now)}; polled Wallaroo."

    return advance


def _seconds(text: str) -> float | None:
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        value = float(number) * units[unit]
    except ValueError:
        return None
    return value if value >= 0 else None


def run_console_command(user_id: str, settings: Settings | None = None) -> int:
    settings, notes, poll = console_session(settings or Settings(), user_id)
    for note in notes:
        print(note, flush=True)
    return asyncio.run(serve_console(settings, user_id, poll=poll))


def console_session(settings: Settings, user_id: str) -> tuple[Settings, list[str], bool]:
    """What `console` runs with, the lines that say so, and whether it polls.

    - Against a Wallaroo on this machine (a standalone emulator) with no CHATOPS_ADMINS, the
      console's user is an admin: otherwise nobody could grant anyone anything. Whoever runs
      the console holds the settings and could name themselves admin anyway.
    - It polls (alerts print here) unless SLACK_BOT_TOKEN is set: then the alerts belong to the
      `serve`/`socket` process sending them to Slack, and a console leading the poller would
      print them here instead."""
    notes = []
    local = _on_loopback(settings.wallaroo_api_url) and _on_loopback(settings.wallaroo_token_url)
    if not settings.admin_user_ids and local:
        settings = settings.model_copy(update={"chatops_admins": user_id})
        notes.append(
            f"{user_id} is an admin: Wallaroo is on this machine ({settings.wallaroo_url}) "
            "and CHATOPS_ADMINS is not set."
        )
    poll = settings.slack_bot_token is None
    if poll:
        every = f"{settings.chatops_poll_seconds:g} s"
        notes.append(f"Polling Wallaroo every {every} (CHATOPS_POLL_SECONDS): alerts print here.")
    else:
        notes.append(
            "Not polling: SLACK_BOT_TOKEN is set, so alerts are for `serve` or `socket` to send."
        )
    return settings, notes, poll


def _on_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def serve_console(
    settings: Settings,
    user_id: str,
    *,
    poll: bool,
    emulator_url: str | None = None,
    stdin: TextIO | None = None,  # the process's own unless given (the tests pipe a script)
    stdout: TextIO | None = None,
) -> int:
    """The bot's services, its background work and the console, until the console ends; with
    `emulator_url`, the demo's `:advance` too, and a clock that it moves with the emulator's
    (DemoClock). Returns the console's exit status."""
    demo_clock = DemoClock() if emulator_url is not None else None
    # The console's messages (approval requests, alerts) go to this terminal, not Slack.
    async with (
        open_services(settings, ConsoleChat(stream=stdout), demo_clock or utc_now) as services,
        background_work(services, poll=poll) as poller,
    ):
        actor = Actor(user_id=user_id, user_name=user_id, channel_id="#console")
        meta = {}
        if poller is not None and emulator_url is not None and demo_clock is not None:
            meta[ADVANCE] = _advance_command(emulator_url, services, poller, demo_clock)
        status = await run_console(services, actor, stdin=stdin, stdout=stdout, meta=meta)
        if poller is not None:
            # What the deploys it waited for staged last (an alert's edit "Running on version
            # 2") is shown before leaving, not left for the sender's next wake.
            await poller.sender.deliver_due()
        return status

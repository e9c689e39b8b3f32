"""The console: the same router as Slack, typed at a terminal or piped in one command a line."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.services import Services
from handlers.blocks import render_text
from handlers.context import Actor
from handlers.router import handle_command

PROMPT = "wallaroo> "
QUIT = {"quit", "exit", ":q"}
SWITCH_USER = ":as"


# A console-only command: gets the words after its name, returns what to print.
MetaCommand = Callable[[list[str]], Awaitable[str]]


async def run_console(
    services: Services,
    actor: Actor,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    meta: dict[str, MetaCommand] | None = None,
) -> int:
    """Interactive at a terminal; otherwise answer each line of stdin and stop at its end.
    `meta` adds console-only commands (the demo's `:advance`)."""
    meta = meta or {}
    interactive = stdin.isatty()
    if interactive:
        print(
            f"Acting as {actor.user_id}. Type `help`, `{SWITCH_USER} USER` to act as someone "
            "else (say, a second approver), or `quit` to leave.",
            file=stdout,
        )
        if ":advance" in meta:
            print(
                "Demo: `:advance 1d` moves the emulator's clock a day and polls, so a "
                "`subscribe assay 1` shows the drift alert.",
                file=stdout,
            )
    while True:
        line = await asyncio.to_thread(_read_line, stdin, PROMPT if interactive else None)
        if line is None or line.strip() in QUIT:
            await _finish_background_work(services, stdout)
            return 0
        line = line.strip()
        if not line:
            continue
        if not interactive:
            print(f"$ {line}", file=stdout)
        if line.split()[0] == SWITCH_USER:
            actor = _switch_user(actor, line, stdout)
            continue
        if line.split()[0] in meta:
            words = line.split()
            print(await meta[words[0]](words[1:]), file=stdout, flush=True)
            print(file=stdout)
            continue
        reply = await handle_command(services, actor, line)
        print(render_text(reply), file=stdout, flush=True)
        print(file=stdout)


def _switch_user(actor: Actor, line: str, stdout: TextIO) -> Actor:
    words = line.split()
    if len(words) != 2:
        print(f"Usage: {SWITCH_USER} USER (for example `{SWITCH_USER} alice`)\n", file=stdout)
        return actor
    print(f"Now acting as {words[1]}.\n", file=stdout)
    return Actor(user_id=words[1], user_name=words[1], channel_id=actor.channel_id)


async def _finish_background_work(services: Services, stdout: TextIO) -> None:
    """Approved deploys still being followed finish before the console exits; a later start
    would resume them anyway, but a piped script should see how its deploy ended."""
    running = services.tasks.running
    if not running:
        return
    print(f"Waiting for {len(running)} deploy(s) to finish…", file=stdout, flush=True)
    limit = services.settings.chatops_deploy_timeout_seconds + 30
    try:
        await asyncio.wait_for(services.tasks.drain(), timeout=limit)
    except TimeoutError:
        print("Still running; the next start will carry on with them.", file=stdout)


def _read_line(stdin: TextIO, prompt: str | None) -> str | None:
    if prompt is not None:
        try:
            return input(prompt)
        except EOFError:
            return None
    line = stdin.readline()
    return line if line else None

"""The console: the same router as Slack, typed at a terminal or piped in one command a line."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.services import Services
from handlers.blocks import render_text
from handlers.context import Actor
from handlers.router import handle_command

PROMPT = "wallaroo> "
QUIT = {"quit", "exit", ":q"}


async def run_console(
    services: Services, actor: Actor, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> int:
    """Interactive at a terminal; otherwise answer each line of stdin and stop at its end."""
    interactive = stdin.isatty()
    if interactive:
        print(f"Acting as {actor.user_id}. Type `help`, or `quit` to leave.", file=stdout)
    while True:
        line = await asyncio.to_thread(_read_line, stdin, PROMPT if interactive else None)
        if line is None:
            return 0
        line = line.strip()
        if not line:
            continue
        if line in QUIT:
            return 0
        if not interactive:
            print(f"$ {line}", file=stdout)
        reply = await handle_command(services, actor, line)
        print(render_text(reply), file=stdout, flush=True)
        print(file=stdout)


def _read_line(stdin: TextIO, prompt: str | None) -> str | None:
    if prompt is not None:
        try:
            return input(prompt)
        except EOFError:
            return None
    line = stdin.readline()
    return line if line else None

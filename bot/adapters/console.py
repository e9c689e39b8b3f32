"""The console: the same router as Slack, typed at a terminal or piped in one command a line."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from prompt_toolkit.patch_stdout import patch_stdout

from bot.adapters.console_clicks import CLICK, Ask, click
from bot.adapters.console_input import (
    PROMPT,
    CtrlC,
    EditedLines,
    Interrupted,
    Lines,
    PlainLines,
    history_path,
)
from bot.chat.console import ConsoleChat
from handlers.commands.router import handle_command
from handlers.context import Actor, Services
from handlers.render.blocks import Reply, render_text

QUIT = {"quit", "exit", ":q"}
SWITCH_USER = ":as"
INTERRUPTED_STATUS = 130  # as shells report a program ended by Ctrl-C

# A console-only command: gets the words after its name, returns what to print.
MetaCommand = Callable[[list[str]], Awaitable[str]]

# What the console's own commands do, for `help` (meta commands are shown when present).
OWN_COMMANDS = {
    SWITCH_USER: (
        f"{SWITCH_USER} USER",
        "act as USER from now on, any id (say, a second approver to approve your request)",
    ),
    CLICK: (
        f"{CLICK} N [REASON]",
        "press button N, as the current user: each message numbers its buttons (`[1 Approve]  "
        "[2 Reject]`), uniquely for the session, so an earlier message's buttons still work "
        "while it has them; Reject takes REASON, or asks for it at a terminal",
    ),
    ":advance": (
        ":advance DURATION",
        "demo only: move the emulator's clock (`1d`, `6h`, `30m` or seconds) and poll "
        "Wallaroo at once, so drift alerts show",
    ),
    "quit": ("quit", "leave (also `exit`, `:q` or Ctrl-D); Ctrl-C leaves at once, mid-command too"),
}

BANNER = (
    "Acting as {user}. Type `help`, `{switch} USER` to act as someone else (say, a second "
    "approver), `{click} N` to press the button numbered N (`[1 Approve]`), or `quit` to "
    "leave. Up and Down recall earlier commands."
)
DEMO_BANNER = (
    "Demo: `:advance 1d` moves the emulator's clock a day and polls, so a "
    "`subscribe assay 1` shows the drift alert."
)


def banner(actor: Actor, meta: dict[str, MetaCommand]) -> str:
    """What a person at a terminal reads first (a piped script gets no banner)."""
    lines = [BANNER.format(user=actor.user_id, switch=SWITCH_USER, click=CLICK)]
    if ":advance" in meta:
        lines.append(DEMO_BANNER)
    return "\n".join(lines)


async def run_console(
    services: Services,
    actor: Actor,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    meta: dict[str, MetaCommand] | None = None,
) -> int:
    """Interactive at a terminal; otherwise answer each line of stdin and stop at its end.
    `meta` adds console-only commands (the demo's `:advance`). Returns the exit status."""
    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    with CtrlC() as ctrl_c:
        if interactive and stdout is None and sys.stdout.isatty():
            history = history_path()
            lines = EditedLines(history)
            # Printed before patch_stdout, whose output reaches the screen only when the
            # prompt redraws: the banner could otherwise come after the first typed line.
            print(banner(actor, meta or {}), flush=True)
            # Whatever prints while the prompt waits (deploy progress, alerts: ConsoleChat
            # writes to sys.stdout) goes above the prompt, which is drawn again below it.
            with patch_stdout():
                console = Console(services, actor, sys.stdout, meta or {}, history)
                return await console.converse(lines, ctrl_c, interactive=True)
        prompt = PROMPT if interactive else None
        console = Console(services, actor, stdout or sys.stdout, meta or {})
        if interactive:
            console.say(banner(actor, meta or {}))
        return await console.converse(PlainLines(stdin, prompt), ctrl_c, interactive=interactive)


class Console:
    def __init__(
        self,
        services: Services,
        actor: Actor,
        out: TextIO,
        meta: dict[str, MetaCommand],
        history: Path | None = None,  # where the line editor keeps what was typed
    ) -> None:
        self.services = services
        self.actor = actor
        self.out = out
        self.meta = meta
        self.history = history
        self._ask: Ask | None = None  # a question for the person typing, at a terminal

    async def converse(self, lines: Lines, ctrl_c: CtrlC, *, interactive: bool) -> int:
        # A script cannot answer a question (its next line is a command): it gives REASON.
        self._ask = lines.read if interactive else None
        try:
            while True:
                line = await ctrl_c.guard(lines.read())
                if line is None or line.strip() in QUIT:
                    await ctrl_c.guard(self._finish_background_work())
                    return 0
                line = line.strip()
                if not line:
                    continue
                if not interactive:
                    self.say(f"$ {line}")
                await ctrl_c.guard(self.run(line))
        except Interrupted:
            self.say(self._interrupted())
            return INTERRUPTED_STATUS

    async def run(self, line: str) -> None:
        words = line.split()
        if words[0] == SWITCH_USER:
            self._switch_user(words)
        elif words[0] == CLICK:
            await self._click(words[1:])
        elif words[0] in self.meta:
            self.say(await self.meta[words[0]](words[1:]) + "\n")
        elif [word.lower() for word in words] == ["help", "console"]:
            self.say(self._own_help() + "\n")
        else:
            reply = await handle_command(self.services, self.actor, line)
            text = self._text(reply)
            if [word.lower() for word in words if word.lower() != "/wallaroo"] == ["help"]:
                text += "\n\n" + self._own_help()
            self.say(text + "\n")

    async def _click(self, words: list[str]) -> None:
        chat = self.services.chat
        if not isinstance(chat, ConsoleChat):  # a console beside Slack: its buttons are there
            self.say("There are no buttons here: this console's messages go to Slack.\n")
            return
        answer = await click(self.services, self.actor, chat.buttons, words, self._ask)
        self.say((answer if isinstance(answer, str) else self._text(answer)) + "\n")

    def _text(self, reply: Reply) -> str:
        """A reply as printed here; its buttons numbered, so `:click` can press them too."""
        chat = self.services.chat
        return chat.text_of(reply) if isinstance(chat, ConsoleChat) else render_text(reply)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _own_help(self) -> str:
        shown = [name for name in OWN_COMMANDS if name in self.meta or name != ":advance"]
        rows = [f"`{OWN_COMMANDS[name][0]}` — {OWN_COMMANDS[name][1]}" for name in shown]
        rows += [f"`{name}`" for name in self.meta if name not in OWN_COMMANDS]
        title = "Console commands"
        notes = "Type commands with or without `/wallaroo`."
        if self.history is not None:
            notes += f" Up and Down recall earlier ones (kept in {self.history})."
        return "\n".join([title, "=" * len(title), *rows, f"\u203a {notes}"])

    def _switch_user(self, words: list[str]) -> None:
        if len(words) != 2:
            self.say(f"Usage: {SWITCH_USER} USER (for example `{SWITCH_USER} alice`)\n")
            return
        self.say(f"Now acting as {words[1]}.\n")
        self.actor = Actor(user_id=words[1], user_name=words[1], channel_id=self.actor.channel_id)

    def _interrupted(self) -> str:
        running = len(self.services.tasks.running)
        if not running:
            return "Interrupted: left the console."
        return (
            f"Interrupted: left the console; the next start carries on with {running} "
            "deploy(s) it was following."
        )

    async def _finish_background_work(self) -> None:
        """Approved deploys still being followed finish before the console exits; a later start
        would resume them anyway, but a piped script should see how its deploy ended."""
        running = self.services.tasks.running
        if not running:
            return
        self.say(f"Waiting for {len(running)} deploy(s) to finish… (Ctrl-C leaves now)")
        limit = self.services.settings.chatops_deploy_timeout_seconds + 30
        try:
            await asyncio.wait_for(self.services.tasks.drain(), timeout=limit)
        except TimeoutError:
            self.say("Still running; the next start will carry on with them.")

"""The console's buttons: every button it prints gets a number, unique for the session, so
`:click N` can press it later, even on a message far up the screen.

A message edited (`update`) keeps the numbers of the buttons its new version still has (same
action and value), numbers the new ones and retires the ones it lost: those can no longer be
pressed, as in Slack, where they would be gone from the message.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    PlainTextObject,
    SectionBlock,
)

from handlers.render.blocks import Reply
from handlers.render.mrkdwn import unescape

# (channel, ts) of a posted message; None for what is shown once (a command's answer).
MessageKey = tuple[str, str]


@dataclass(frozen=True)
class Button:
    number: int
    label: str  # as Slack's plain text carries it (entities escaped)
    action_id: str
    value: str
    url: str | None = None  # a link button: Slack opens the address, nothing to run
    message: MessageKey | None = None
    retired: bool = False  # its message was edited and no longer has it

    @property
    def where(self) -> str:
        if self.message is None:
            return "an answer"
        channel, ts = self.message
        return f"message {ts} in {channel}"


class ButtonBoard:
    """What every number pressed means, and which buttons each posted message has now."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)
        self._buttons: dict[int, Button] = {}
        self._on_message: dict[MessageKey, list[int]] = {}

    def numbered(self, reply: Reply, message: MessageKey | None = None) -> Reply:
        """`reply` with each row of buttons as one line of numbered labels (`[1 Approve]
        [2 Reject]`), its buttons recorded; for an edit, `message` is the one edited."""
        earlier = self._earlier_buttons(message)
        shown: list[int] = []
        blocks: list[Block] = []
        for block in reply.blocks:
            if isinstance(block, ActionsBlock):
                labels = [self._label(e, message, earlier, shown) for e in block.elements]
                line = "  ".join(label for label in labels if label)
                blocks.append(SectionBlock(text=PlainTextObject(text=line)))
            else:
                blocks.append(block)
        if message is not None:
            for number in earlier.values():
                if number not in shown:
                    self._buttons[number] = replace(self._buttons[number], retired=True)
            self._on_message[message] = shown
        return replace(reply, blocks=blocks)

    def buttons_line(self, message: MessageKey) -> str:
        """The message's buttons as they are now, for the one line an edit prints."""
        shown = "  ".join(_shown(self._buttons[n]) for n in self._on_message.get(message, []))
        return unescape(shown)  # labels are Slack's plain text, entities escaped

    def get(self, number: int) -> Button | None:
        return self._buttons.get(number)

    def current_on(self, message: MessageKey) -> list[Button]:
        return [self._buttons[n] for n in self._on_message.get(message, [])]

    @property
    def count(self) -> int:
        return len(self._buttons)

    def _earlier_buttons(self, message: MessageKey | None) -> dict[tuple[str, str], int]:
        if message is None:
            return {}
        numbers = self._on_message.get(message, [])
        return {(self._buttons[n].action_id, self._buttons[n].value): n for n in numbers}

    def _label(
        self,
        element: object,
        message: MessageKey | None,
        earlier: dict[tuple[str, str], int],
        shown: list[int],
    ) -> str:
        text = getattr(element, "text", None)
        if not isinstance(element, ButtonElement) or not isinstance(text, PlainTextObject):
            # Menus and the like: their label if they have one; nothing to press here.
            return f"[{text.text}]" if isinstance(text, PlainTextObject) else ""
        action_id, value = element.action_id or "", element.value or ""
        number = earlier.get((action_id, value))
        if number is None:
            number = next(self._numbers)
        button = Button(number, text.text, action_id, value, element.url, message)
        self._buttons[number] = button
        shown.append(number)
        return _shown(button)


def _shown(button: Button) -> str:
    if button.url:
        return f"[{button.number} {button.label}: {button.url}]"
    return f"[{button.number} {button.label}]"

"""`:click N [REASON]`: press button N of a message the console printed, as the current user.

It goes to the same handlers as a click in Slack (bot/adapters/slack_app.py routes them the same
way: Approve, Reject with its reason, the `alert_` buttons), so the same role checks, four-eyes
rule and audit rows apply. Reject's reason, which Slack asks for in a dialog, is the rest of the
line, or asked for at a terminal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.chat.console_buttons import Button, ButtonBoard
from handlers.approvals.requests import Verdict
from handlers.context import Actor, Services, record_click
from handlers.interactions.alert_clicks import handle_alert_click
from handlers.interactions.approval_clicks import handle_click, precheck_click
from handlers.render.approval_messages import APPROVE_ACTION, REJECT_ACTION
from handlers.render.blocks import Reply, error_reply
from handlers.render.mrkdwn import unescape
from storage.audit import Outcome

CLICK = ":click"
USAGE = f"Usage: {CLICK} N [REASON] (N is the number in a button's brackets, e.g. `[1 Approve]`)"
REASON_CHARS = (3, 500)  # what Slack's reject dialog allows
ALERT_PREFIX = "alert_"  # as slack_app.py's listener for the alert buttons

# Asks the person at the terminal a question; None where nobody can answer (a piped script).
Ask = Callable[[str], Awaitable[str | None]]


async def click(
    services: Services, actor: Actor, board: ButtonBoard, words: list[str], ask: Ask | None
) -> Reply | str:
    """What pressing the button named by `words` (`N [REASON]`) answers: a Reply from the
    button's handler, or one line of the console's own when there is nothing to press."""
    number = int(words[0]) if words and words[0].isascii() and words[0].isdigit() else None
    if number is None:
        return USAGE
    button = board.get(number)
    if button is None:
        return _unknown(number, board)
    if button.retired:
        return _retired(button, board)
    if button.url:
        return f"Button {number} ({unescape(button.label)}) opens a link: {button.url}"
    reason = " ".join(words[1:])
    if button.action_id == APPROVE_ACTION:
        return await _decide(services, actor, button, Verdict(approve=True))
    if button.action_id == REJECT_ACTION:
        return await _reject(services, actor, button, reason, ask)
    if button.action_id.startswith(ALERT_PREFIX):
        episode_id = await _id_of(services, actor, button, "alerts")
        if isinstance(episode_id, Reply):
            return episode_id
        return await handle_alert_click(services, actor, button.action_id, episode_id)
    return (
        f"Button {number} ({unescape(button.label)}) does nothing at the console yet; "
        "press it in Slack."
    )


async def _decide(services: Services, actor: Actor, button: Button, verdict: Verdict) -> Reply:
    request_id = await _id_of(services, actor, button, "approvals")
    if isinstance(request_id, Reply):
        return request_id
    return await handle_click(services, actor, request_id, verdict, "button")


async def _reject(
    services: Services, actor: Actor, button: Button, reason: str, ask: Ask | None
) -> Reply | str:
    """As in Slack: refused before the reason is asked for if this user may not decide; the
    reason given in the dialog's place; then the same decision, audited as the dialog's."""
    request_id = await _id_of(services, actor, button, "approvals")
    if isinstance(request_id, Reply):
        return request_id
    verdict = Verdict(approve=False)
    refusal = await precheck_click(services, actor, request_id, verdict, "button")
    if refusal is not None:
        return refusal
    if not reason and ask is not None:
        reason = (await ask(f"Why reject #{request_id}? ") or "").strip()
    shortest, longest = REASON_CHARS
    if not shortest <= len(reason) <= longest:
        return (
            f"Nothing rejected: Reject needs a reason of {shortest} to {longest} characters, "
            f"as Slack's dialog asks; type `{CLICK} {button.number} REASON`."
        )
    verdict = Verdict(approve=False, reason=reason)
    return await handle_click(services, actor, request_id, verdict, "dialog")


async def _id_of(services: Services, actor: Actor, button: Button, area: str) -> int | Reply:
    """The request or episode number the button carries, as slack_app.py's `_clicked_id` reads
    it: anything else is refused and audited as an invalid click."""
    value = button.value
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    await record_click(
        services,
        actor,
        text=f"[button] {button.action_id} {value[:100]}",
        area=area,
        action=button.action_id,
        target=f"value {value[:100]!r}",
        outcome=Outcome.INVALID,
        started=None,
    )
    return error_reply("This button names no request the bot knows.")


def _unknown(number: int, board: ButtonBoard) -> str:
    if not board.count:
        return f"There is no button {number}: no message shown so far has buttons."
    return (
        f"There is no button {number}: the buttons shown so far are numbered 1 to "
        f"{board.count}, in their brackets (`[1 Approve]`)."
    )


def _retired(button: Button, board: ButtonBoard) -> str:
    assert button.message is not None  # only an edited message's buttons are retired
    line = (
        f"Button {button.number} ({unescape(button.label)}) is gone: {button.where} has since "
        "been edited and no longer has it"
    )
    now = [f"{b.number} {unescape(b.label)}" for b in board.current_on(button.message)]
    return line + (f"; its buttons now are {', '.join(now)}." if now else ".")

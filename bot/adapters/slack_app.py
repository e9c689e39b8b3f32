"""The Slack app: the `/wallaroo` listener on the shared router, and the approval buttons
(with Reject's reason dialog), for HTTP and Socket Mode."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_modals import register_modals
from bot.adapters.slack_upload import register_upload
from bot.chat.slack import SlackChat
from bot.logs import bolt_token_warning_silenced
from handlers.approvals.requests import Verdict
from handlers.commands.router import handle_command
from handlers.context import BOT_FAILED, Actor, Services, record_click
from handlers.interactions.alert_clicks import handle_alert_click
from handlers.interactions.approval_clicks import handle_click, precheck_click
from handlers.interactions.home import home_view
from handlers.render.approval_messages import (
    APPROVE_ACTION,
    REJECT_ACTION,
    REJECT_REASON_BLOCK,
    REJECT_REASON_INPUT,
    REJECT_REASON_VIEW,
    reject_reason_view,
)
from handlers.render.blocks import Reply, error_reply
from handlers.render.home import home_unavailable
from storage.approvals import get_request
from storage.audit import Outcome

ACK_HEADSTART_SECONDS = 0.03
logger = logging.getLogger(__name__)


class SlackNotConfigured(RuntimeError):
    pass


def build_slack_app(services: Services) -> AsyncApp:
    settings = services.settings
    if (
        settings.slack_bot_token is None
        or settings.slack_signing_secret is None
        or not isinstance(services.chat, SlackChat)
    ):
        raise SlackNotConfigured(
            "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET must be set (see README: Install in Slack)"
        )
    with bolt_token_warning_silenced(services.chat.client.token):
        app = AsyncApp(
            client=services.chat.client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
        )

    @app.command("/wallaroo")
    async def wallaroo(ack: AsyncAck, command: dict, respond: AsyncRespond) -> None:
        # Ack first: Slack allows 3 s, and Wallaroo may take longer; the answer follows
        # through the response URL.
        await ack()
        # bolt returns the ack's HTTP response from a poller that wakes every 10 ms on this
        # same loop; starting our CPU work at once delays the acks of a burst behind it
        # (bench/ack.py: p99 1.3-1.7x the ack-only floor, 0.9-1.1x with this pause).
        await asyncio.sleep(ACK_HEADSTART_SECONDS)
        actor = Actor(
            user_id=command.get("user_id", ""),
            user_name=command.get("user_name", ""),
            team_id=command.get("team_id", ""),
            channel_id=command.get("channel_id", ""),
            trigger_id=command.get("trigger_id", ""),  # `deploy` alone opens a modal with it
        )

        async def deliver(reply: Reply) -> None:
            message = reply.to_slack()
            await respond(
                text=message["text"],
                blocks=message.get("blocks"),
                response_type="ephemeral" if reply.ephemeral else "in_channel",
            )

        await handle_command(services, actor, command.get("text", ""), deliver)

    @app.action(APPROVE_ACTION)
    @_guarded
    async def approve_clicked(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
        await ack()
        verdict = Verdict(approve=True)
        request_id = await _clicked_id(services, body, respond, "approvals", verdict.verb)
        if request_id is None:
            return
        reply = await handle_click(services, _clicker(body), request_id, verdict, "button")
        await _tell(respond, reply)

    @app.event("app_home_opened")
    async def home_opened(event: dict, client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        actor = Actor(user_id=event.get("user", ""))
        try:
            view = await home_view(services, actor)
        except Exception as exc:  # Wallaroo down, a bug: say so on the tab rather than nothing
            logger.exception("building the Home tab failed")
            view = home_unavailable(exc)
        try:
            await client.views_publish(user_id=actor.user_id, view=view)
        except SlackClientError:
            logger.exception("publishing the Home tab failed")

    @app.action(re.compile(r"^alert_"))
    @_guarded
    async def alert_clicked(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
        await ack()
        action = body["actions"][0]
        episode_id = await _clicked_id(services, body, respond, "alerts", action["action_id"])
        if episode_id is None:
            return
        reply = await handle_alert_click(services, _clicker(body), action["action_id"], episode_id)
        await _tell(respond, reply)

    @app.action(REJECT_ACTION)
    @_guarded
    async def reject_clicked(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
        await ack()
        verdict = Verdict(approve=False)
        request_id = await _clicked_id(services, body, respond, "approvals", verdict.verb)
        if request_id is None:
            return
        refusal = await precheck_click(services, _clicker(body), request_id, verdict, "button")
        if refusal is not None:
            await _tell(respond, refusal)
            return
        async with services.sessions() as session:
            request = await get_request(session, request_id)
        assert request is not None  # precheck_click found it
        try:
            await app.client.views_open(
                trigger_id=body["trigger_id"], view=reject_reason_view(request)
            )
        except SlackClientError:
            hint = f"Type `/wallaroo reject {request_id} REASON` instead."
            await _tell(respond, error_reply("Slack would not open the reason dialog.", hint))

    @app.view(REJECT_REASON_VIEW)
    @_guarded
    async def reject_reason_given(ack: AsyncAck, body: dict) -> None:
        view = body["view"]
        # The dialog's hidden request id comes back from Slack as sent, unless forged: a bad
        # one is answered in the dialog itself (it has no channel to answer in) and audited.
        metadata = str(view.get("private_metadata", ""))
        request_id = _as_id(metadata)
        found = None
        if request_id is not None:
            async with services.sessions() as session:
                found = await get_request(session, request_id)
        if found is None or request_id is None:
            actor = _clicker(body)
            await _audit_invalid(services, actor, "approvals", "reject", metadata, "dialog")
            problem = "This dialog names no approval request."
            if request_id is not None:
                problem = f"There is no approval request #{request_id}."
            errors = {REJECT_REASON_BLOCK: f"{problem} Nothing was rejected."}
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        values = view["state"]["values"][REJECT_REASON_BLOCK][REJECT_REASON_INPUT]
        verdict = Verdict(approve=False, reason=(values.get("value") or "").strip())
        actor = _clicker(body)
        reply = await handle_click(services, actor, request_id, verdict, "dialog")
        async with services.sessions() as session:
            request = await get_request(session, request_id)
        if request is not None:
            await services.chat.post_ephemeral(request.channel, actor.user_id, reply)

    register_modals(app, services)
    register_upload(app, services)
    return app


def _guarded(
    handler: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """A click handler that, whatever fails after the ack, tells the user so (and logs the
    trace) rather than leaving a button that seems to do nothing."""

    @functools.wraps(handler)
    async def run(*args: Any, **kwargs: Any) -> None:
        try:
            await handler(*args, **kwargs)
        except Exception:
            logger.exception("%s failed", handler.__name__)
            respond = kwargs.get("respond")
            if respond is not None:
                with contextlib.suppress(Exception):
                    await _tell(respond, error_reply(BOT_FAILED))

    return run


def _clicker(body: dict[str, Any]) -> Actor:
    user = body.get("user") or {}
    return Actor(
        user_id=user.get("id", ""),
        user_name=user.get("username") or user.get("name", ""),
        team_id=(body.get("team") or {}).get("id", ""),
        channel_id=(body.get("channel") or {}).get("id", ""),
    )


def _as_id(value: str) -> int | None:
    """A request or episode number as the bot writes it into buttons; None for anything else
    (a forged or garbled value). Bounded so no database is asked about a 40-digit number."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


async def _clicked_id(
    services: Services, body: dict[str, Any], respond: AsyncRespond, area: str, action: str
) -> int | None:
    """The number a button carries, or None once the clicker has been told and it is audited."""
    value = str(body["actions"][0].get("value", ""))
    number = _as_id(value)
    if number is None:
        await _audit_invalid(services, _clicker(body), area, action, value)
        await _tell(respond, error_reply("This button names no request the bot knows."))
    return number


async def _audit_invalid(
    services: Services, actor: Actor, area: str, action: str, value: str, source: str = "button"
) -> None:
    await record_click(
        services,
        actor,
        text=f"[{source}] {action} {value[:100]}",
        area=area,
        action=action,
        target=f"value {value[:100]!r}",
        outcome=Outcome.INVALID,
        started=None,
    )


async def _tell(respond: AsyncRespond, reply: Reply) -> None:
    message = reply.to_slack()
    await respond(
        text=message["text"],
        blocks=message.get("blocks"),
        response_type="ephemeral",
        replace_original=False,
    )

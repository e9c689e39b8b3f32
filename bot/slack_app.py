"""The Slack app: one `/wallaroo` listener on the shared router, for HTTP and Socket Mode."""

from __future__ import annotations

import asyncio

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services
from handlers.blocks import Reply
from handlers.context import Actor
from handlers.router import handle_command

ACK_HEADSTART_SECONDS = 0.03


class SlackNotConfigured(RuntimeError):
    pass


def build_slack_app(services: Services) -> AsyncApp:
    settings = services.settings
    if settings.slack_bot_token is None or settings.slack_signing_secret is None:
        raise SlackNotConfigured(
            "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET must be set (see README: Install in Slack)"
        )
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    # A 429 means Slack did not take the call, so waiting Retry-After and retrying is safe.
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        token=settings.slack_bot_token.get_secret_value(),
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
        )

        async def deliver(reply: Reply) -> None:
            message = reply.to_slack()
            await respond(
                text=message["text"],
                blocks=message.get("blocks"),
                response_type="ephemeral" if reply.ephemeral else "in_channel",
            )

        await handle_command(services, actor, command.get("text", ""), deliver)

    return app

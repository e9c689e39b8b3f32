"""The Slack app: one `/wallaroo` listener on the shared router, for HTTP and Socket Mode."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services
from handlers.context import Actor
from handlers.router import handle_command


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
        actor = Actor(
            user_id=command.get("user_id", ""),
            user_name=command.get("user_name", ""),
            team_id=command.get("team_id", ""),
            channel_id=command.get("channel_id", ""),
        )
        reply = await handle_command(services, actor, command.get("text", ""))
        message = reply.to_slack()
        await respond(
            text=message["text"],
            blocks=message.get("blocks"),
            response_type="ephemeral" if reply.ephemeral else "in_channel",
        )

    return app

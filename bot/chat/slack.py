"""`Chat` on Slack's Web API (slack_sdk's async client, its retry handlers for short 429s and
refused connections). A failure is raised as a ChatError that says what a retry may do: a
long 429 comes back at once with its Retry-After (sleeping inside the call would hold up
whoever waits on it), an error no retry can fix is `permanent`, a timeout is `unknown_fate`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import slack_files
from bot.settings import Settings
from handlers.chat import METADATA_EVENT, ChatError, Posted, SharedFile
from handlers.render.blocks import Reply

logger = logging.getLogger(__name__)

# What a Slack call can raise: Slack's own errors, and (slack_sdk passes them through) the
# transport's timeouts and connection errors.
SLACK_FAILURES = (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError)

HISTORY_PAGES = 10  # of 200 messages each
USER_PAGES = 50  # of 200 users each: `@name` is looked up among the first 10,000
SLACK_TIMEOUT_SECONDS = 10  # per call (slack_sdk's default is 30)
# A 429 asking for a longer wait than this is not slept through inside the call: it is raised
# (ChatError.retry_after), and the outbox defers only that channel.
SHORT_RETRY_AFTER_SECONDS = 2.0

# Answers that no retry can change: the token, the app's membership or the channel is wrong.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
        "no_permission", "missing_scope", "team_access_not_granted", "org_login_required",
        "ekm_access_denied", "channel_not_found", "not_in_channel", "is_archived",
        "restricted_action", "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel", "restricted_action_non_threadable_channel",
    }
)  # fmt: skip


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, for short waits only: a caller serving one channel must not
    sleep 20 s inside a call while the others wait."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _retry_after(response.headers)
        return wait is not None and wait <= SHORT_RETRY_AFTER_SECONDS


def build_web_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(
        token=token, base_url=settings.slack_api_url, timeout=SLACK_TIMEOUT_SECONDS
    )
    # A 429 or a refused connection means Slack did not take the call: retrying cannot post
    # twice. Other failures are left to the caller, which knows whether a retry is safe.
    client.retry_handlers.append(ShortRateLimitRetryHandler(max_retry_count=3))
    # Only a connection that was never made: slack_sdk's default list also retries a dropped
    # connection and a read timeout (ServerTimeoutError), after which the post may have landed.
    refused = AsyncConnectionErrorRetryHandler(
        max_retry_count=2, error_types=[aiohttp.ClientConnectorError]
    )
    client.retry_handlers.append(refused)
    return client


class SlackChat:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._channel_ids: dict[str, str] = {}

    async def _channel_id(self, name: str) -> str:
        """The id of channel `#name` (conversations.list, cached)."""
        if name in self._channel_ids:
            return self._channel_ids[name]
        cursor: str | None = None
        try:
            while True:
                answer = await self.client.conversations_list(
                    types="public_channel,private_channel", limit=1000, cursor=cursor,
                    exclude_archived=True,
                )  # fmt: skip
                for found in answer.get("channels") or []:
                    self._channel_ids[f"#{found.get('name')}"] = str(found.get("id"))
                cursor = (answer.get("response_metadata") or {}).get("next_cursor")
                if name in self._channel_ids or not cursor:
                    break
        except SLACK_FAILURES as exc:
            raise _chat_error(exc) from exc
        if name not in self._channel_ids:
            raise ChatError(f"Slack lists no channel named {name}")
        return self._channel_ids[name]

    async def post(
        self, channel: str, reply: Reply, *, thread_ts: str | None = None, key: str | None = None
    ) -> Posted:
        message = reply.to_slack()
        metadata = None
        if key is not None:
            metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}}
        try:
            answer = await self.client.chat_postMessage(
                channel=channel, text=message["text"], blocks=message.get("blocks"),
                thread_ts=thread_ts, metadata=metadata,
            )  # fmt: skip
        except SLACK_FAILURES as exc:
            raise _chat_error(exc) from exc
        return Posted(channel=answer.get("channel") or channel, ts=str(answer["ts"]))

    async def find_posted(
        self, channel: str, key: str, since: datetime, thread_ts: str | None = None
    ) -> Posted | None:
        if channel.startswith("#"):
            # History wants the id; a #name (a setting, the console) is looked up once.
            channel = await self._channel_id(channel)
        oldest = f"{since.timestamp() - 60:.6f}"
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):  # a busy channel: page back to `since`
            try:
                if thread_ts is None:
                    answer = await self.client.conversations_history(
                        channel=channel, oldest=oldest, limit=200, cursor=cursor,
                        include_all_metadata=True,
                    )  # fmt: skip
                else:
                    answer = await self.client.conversations_replies(
                        channel=channel, ts=thread_ts, oldest=oldest, limit=200, cursor=cursor,
                        include_all_metadata=True,
                    )  # fmt: skip
            except SLACK_FAILURES as exc:
                raise _chat_error(exc) from exc
            for message in answer.get("messages") or []:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("key") == key:
                    return Posted(channel=channel, ts=str(message["ts"]))
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        raise ChatError("could not page through the channel's history to check for a post")

    async def update(self, channel: str, ts: str, reply: Reply) -> None:
        message = reply.to_slack()
        try:
            await self.client.chat_update(
                channel=channel, ts=ts, text=message["text"], blocks=message.get("blocks") or []
            )
        except SLACK_FAILURES as exc:
            raise _chat_error(exc) from exc

    async def post_ephemeral(self, channel: str, user_id: str, reply: Reply) -> None:
        message = reply.to_slack()
        try:
            await self.client.chat_postEphemeral(
                channel=channel, user=user_id, text=message["text"], blocks=message.get("blocks")
            )
        except SLACK_FAILURES as exc:
            raise _chat_error(exc) from exc

    async def upload(
        self, channel: str, content: bytes, filename: str, title: str, thread_ts: str | None
    ) -> None:
        try:
            await self.client.files_upload_v2(
                channel=channel, content=content, filename=filename, title=title,
                thread_ts=thread_ts,
            )  # fmt: skip
        except SLACK_FAILURES as exc:
            raise _chat_error(exc) from exc

    async def permalink(self, channel: str, ts: str) -> str | None:
        try:
            answer = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SLACK_FAILURES as exc:
            logger.warning("chat.getPermalink failed: %s", _describe(exc))
            return None
        link = answer.get("permalink")
        return link if isinstance(link, str) else None

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str | None:
        try:
            answer = await self.client.views_open(trigger_id=trigger_id, view=view)
        except SLACK_FAILURES as exc:
            raise _chat_error(exc) from exc
        return str((answer.get("view") or {}).get("id") or "") or None

    async def update_view(self, view_id: str, view: dict[str, Any]) -> None:
        try:
            await self.client.views_update(view_id=view_id, view=view)
        except SLACK_FAILURES as exc:
            raise _chat_error(exc) from exc

    async def shared_file(self, ref: str) -> SharedFile:
        return await slack_files.shared_file(self.client, ref)

    def read_file(self, file: SharedFile, chunk_bytes: int) -> AsyncIterator[bytes]:
        return slack_files.read_file(self.client.token, file, chunk_bytes)

    async def user_email(self, user_id: str) -> str | None:
        try:
            answer = await self.client.users_info(user=user_id)
        except SLACK_FAILURES as exc:
            logger.warning("users.info for %s failed: %s", user_id, _describe(exc))
            return None
        profile = (answer.get("user") or {}).get("profile") or {}
        return profile.get("email") or None

    async def users_named(self, name: str) -> list[str]:
        wanted = name.casefold()
        found: list[str] = []
        cursor: str | None = None
        try:
            for _ in range(USER_PAGES):
                answer = await self.client.users_list(limit=200, cursor=cursor)
                found += [
                    str(member["id"])
                    for member in answer.get("members") or []
                    if _holds_roles(member) and wanted in _names_of(member)
                ]
                cursor = (answer.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SLACK_FAILURES as exc:
            raise _chat_error(exc) from exc
        return found


def _holds_roles(member: dict) -> bool:
    """A person still in the workspace: a deleted user, a bot or Slackbot never gets a role."""
    bot = member.get("is_bot") or member.get("id") == "USLACKBOT"
    return not (member.get("deleted") or bot)


def _names_of(member: dict) -> set[str]:
    """What people may call a Slack user after an `@`, case folded."""
    profile = member.get("profile") or {}
    names = (member.get("name"), profile.get("display_name"), profile.get("real_name"))
    return {str(name).casefold() for name in names if name}


def _retry_after(headers: object) -> float | None:
    """Retry-After from a response's headers (slack_sdk gives lists or strings, any case)."""
    if not isinstance(headers, dict) and not hasattr(headers, "items"):
        return None
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            first = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return float(first)
            except (TypeError, ValueError):
                return None
    return None


def _chat_error(exc: BaseException) -> ChatError:
    """The failure as a ChatError that says whether and when a retry may help."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        error = str(exc.response.get("error", ""))
        if status == 429 or error == "ratelimited":
            wait = _retry_after(getattr(exc.response, "headers", {}))
            return ChatError(_describe(exc), retry_after=wait if wait is not None else 1.0)
        if error in PERMANENT_ERRORS:
            return ChatError(_describe(exc), permanent=True)
        # Slack answered: it did not take the call, unless its own side broke (a 5xx).
        return ChatError(_describe(exc), unknown_fate=status >= 500)
    # A refused connection never reached Slack; a timeout or a dropped answer may have.
    return ChatError(_describe(exc), unknown_fate=not isinstance(exc, aiohttp.ClientConnectorError))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"Slack answered {exc.response.get('error', 'an error')}"
    return f"Slack could not be reached ({type(exc).__name__})"

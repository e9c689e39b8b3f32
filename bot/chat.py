"""Where the bot speaks on its own (not as a reply): Slack's Web API, or the console's terminal.

Approval requests, their live status and outcomes, and later alerts, are posted and edited
through a `Chat`, so the same flow runs in Slack, in the console and in tests.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, TextIO

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from handlers.blocks import Reply, render_text

logger = logging.getLogger(__name__)

# What a Slack call can raise: Slack's own errors, and (slack_sdk passes them through) the
# transport's timeouts and connection errors.
SLACK_FAILURES = (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError)

# Slack message metadata type of the bot's own alert posts (the payload carries the outbox key).
METADATA_EVENT = "wallaroo_chatops_alert"
HISTORY_PAGES = 10  # of 200 messages each
USER_PAGES = 50  # of 200 users each: `@name` is looked up among the first 10,000
SLACK_TIMEOUT_SECONDS = 10  # per call (slack_sdk's default is 30)


class ChatError(Exception):
    """Slack (or the terminal) did not take the message; the text says why, without tokens."""


@dataclass(frozen=True)
class Posted:
    channel: str  # the channel id Slack answered (a #name becomes an id)
    ts: str


class Chat(Protocol):
    async def post(
        self, channel: str, reply: Reply, *, thread_ts: str | None = None, key: str | None = None
    ) -> Posted:
        """Post a message (in a thread with `thread_ts`); `key` tags it so `find_posted` can
        tell later whether an attempt whose answer was lost did get through."""
        ...

    async def find_posted(
        self, channel: str, key: str, since: datetime, thread_ts: str | None = None
    ) -> Posted | None:
        """The message posted with `key` since `since` (in the thread, with `thread_ts`)."""
        ...

    async def update(self, channel: str, ts: str, reply: Reply) -> None:
        """Replace a message the bot posted."""
        ...

    async def post_ephemeral(self, channel: str, user_id: str, reply: Reply) -> None:
        """A message only `user_id` sees."""
        ...

    async def user_email(self, user_id: str) -> str | None:
        """The user's email, or None when it cannot be known."""
        ...

    async def users_named(self, name: str) -> list[str]:
        """The ids of the users `@name` may mean (handle, display or real name, case aside);
        raises ChatError when that cannot be known."""
        ...

    async def upload(
        self, channel: str, content: bytes, filename: str, title: str, thread_ts: str | None
    ) -> None:
        """A file (a chart) into a channel or a thread."""
        ...


def build_web_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(
        token=token, base_url=settings.slack_api_url, timeout=SLACK_TIMEOUT_SECONDS
    )
    # A 429 or a refused connection means Slack did not take the call: retrying cannot post
    # twice. Other failures are left to the caller, which knows whether a retry is safe.
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=2))
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
            raise ChatError(_describe(exc)) from exc
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
            raise ChatError(_describe(exc)) from exc
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
                raise ChatError(_describe(exc)) from exc
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
            raise ChatError(_describe(exc)) from exc

    async def post_ephemeral(self, channel: str, user_id: str, reply: Reply) -> None:
        message = reply.to_slack()
        try:
            await self.client.chat_postEphemeral(
                channel=channel, user=user_id, text=message["text"], blocks=message.get("blocks")
            )
        except SLACK_FAILURES as exc:
            raise ChatError(_describe(exc)) from exc

    async def upload(
        self, channel: str, content: bytes, filename: str, title: str, thread_ts: str | None
    ) -> None:
        try:
            await self.client.files_upload_v2(
                channel=channel, content=content, filename=filename, title=title,
                thread_ts=thread_ts,
            )  # fmt: skip
        except SLACK_FAILURES as exc:
            raise ChatError(_describe(exc)) from exc

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
            raise ChatError(_describe(exc)) from exc
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


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"Slack answered {exc.response.get('error', 'an error')}"
    return f"Slack could not be reached ({type(exc).__name__})"


class ConsoleChat:
    """The console's stand-in for a channel: messages are printed, edits summed up in a line."""

    def __init__(
        self,
        stream: TextIO | None = None,
        emails: dict[str, str] | None = None,
        file_dir: Path | None = None,
    ) -> None:
        self._stream = stream
        self.emails = emails or {}
        self.file_dir = file_dir or Path(tempfile.gettempdir()) / "wallaroo-chatops"
        self._numbers = itertools.count(1)
        self._keys: dict[str, str] = {}

    @property
    def stream(self) -> TextIO:
        """Without a stream given, sys.stdout at each print: at a terminal the console's line
        editor replaces it with one that prints above the prompt and draws the prompt again."""
        return self._stream if self._stream is not None else sys.stdout

    async def post(
        self, channel: str, reply: Reply, *, thread_ts: str | None = None, key: str | None = None
    ) -> Posted:
        ts = f"{next(self._numbers)}.000000"
        if key is not None:
            self._keys[key] = ts
        where = f"{channel}, thread {thread_ts}" if thread_ts else channel
        self._print(f"[message {ts} in {where}]", reply)
        return Posted(channel=channel, ts=ts)

    async def find_posted(
        self, channel: str, key: str, since: datetime, thread_ts: str | None = None
    ) -> Posted | None:
        ts = self._keys.get(key)
        return Posted(channel=channel, ts=ts) if ts else None

    async def update(self, channel: str, ts: str, reply: Reply) -> None:
        # A terminal cannot edit what it printed; one line saying what changed reads better
        # than the whole message again.
        print(f"[message {ts} in {channel}, edited] {reply.text}\n", file=self.stream, flush=True)

    async def post_ephemeral(self, channel: str, user_id: str, reply: Reply) -> None:
        self._print(f"[only {user_id} sees this, in {channel}]", reply)

    async def user_email(self, user_id: str) -> str | None:
        return self.emails.get(user_id)

    async def users_named(self, name: str) -> list[str]:
        return [name]  # console users are their own ids (`:as alice` acts as `alice`)

    async def upload(
        self, channel: str, content: bytes, filename: str, title: str, thread_ts: str | None
    ) -> None:
        """Saved to a file, whose path is printed: a terminal cannot show the picture."""
        self.file_dir.mkdir(parents=True, exist_ok=True)
        # The time (to the microsecond) keeps one run's charts from overwriting another's.
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = self.file_dir / f"{stamp}-{next(self._numbers)}-{Path(filename).name}"
        await asyncio.to_thread(path.write_bytes, content)
        where = f"{channel}, thread {thread_ts}" if thread_ts else channel
        print(f"[file in {where}] {title}: saved to {path}\n", file=self.stream, flush=True)

    def _print(self, heading: str, reply: Reply) -> None:
        print(f"{heading}\n{render_text(reply)}\n", file=self.stream, flush=True)

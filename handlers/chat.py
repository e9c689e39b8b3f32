"""Where the bot speaks on its own (not as a reply): the port every layer posts through.

Approval requests, their live status and outcomes, and alerts are posted and edited through a
`Chat`; `bot/chat/` holds the two implementations (Slack's Web API, the console's terminal), so
the same flow runs in Slack, in the console and in tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from handlers.render.blocks import Reply

# Slack message metadata type of the bot's own alert posts (the payload carries the outbox key).
METADATA_EVENT = "wallaroo_chatops_alert"


class ChatError(Exception):
    """Slack (or the terminal) did not take the message; the text says why, without tokens.

    What a sender may do next: `retry_after` (seconds) when the call was rate-limited (not
    taken; try again then), `permanent` when no retry can help (the token or the channel is
    wrong), `unknown_fate` when the call may still have gone through (a timeout: look for it
    before sending it again)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        unknown_fate: bool = False,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.unknown_fate = unknown_fate


class FileUnavailable(ChatError):
    """A shared file the bot cannot have: no such file, not shared with the bot, not a file
    at all. `hint` says what would make it available."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, permanent=True)
        self.hint = hint


@dataclass(frozen=True)
class SharedFile:
    """A file someone shared (a Slack file, a local path in the console), before it is read."""

    id: str
    name: str
    size: int  # bytes, as the chat says; reading it counts again
    source: str  # where its bytes come from: Slack's url_private_download, or a local path


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

    async def permalink(self, channel: str, ts: str) -> str | None:
        """A link to a posted message, or None when there is none (the console, a failure)."""
        ...

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str | None:
        """Open a modal for the user whose action gave `trigger_id`; the view's id, or None
        when this chat has no modals (the console: it keeps the typed forms)."""
        ...

    async def update_view(self, view_id: str, view: dict[str, Any]) -> None:
        """Replace an open modal (`views.update`)."""
        ...

    async def shared_file(self, ref: str) -> SharedFile:
        """The file `ref` names (Slack: a file link or id, resolved with files.info; the
        console: a local path); raises FileUnavailable saying why it cannot be had."""
        ...

    def read_file(self, file: SharedFile, chunk_bytes: int) -> AsyncIterator[bytes]:
        """The file's bytes in chunks of at most `chunk_bytes`, never more in memory; raises
        ChatError if the download stops before its end."""
        ...

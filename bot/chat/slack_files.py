"""Files shared in Slack, for `model upload`: a link or id resolved with files.info, then the
bytes streamed from `url_private_download` with the bot token, a bounded chunk at a time."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.chat import ChatError, FileUnavailable, SharedFile

# A file id inside a link: /files/U123/F0123ABC/name (a permalink) or /files-pri/T1-F0123ABC/...
_FILE_ID = re.compile(r"(?:^|/|-)(F[A-Z0-9]{6,})(?=/|$)")
_HOW_TO_SHARE = (
    "Share the file in a channel the bot is in (or invite the bot: `/invite @wallaroo`), or "
    "send it to the bot directly, then give its link (More actions → Copy link)."
)
# A download that stalls this long is given up (Slack streams steadily when it streams).
READ_TIMEOUT_SECONDS = 60


def file_id_in(ref: str) -> str | None:
    """The Slack file id a link or id names (`F0123ABC`, a permalink, a download URL)."""
    ref = ref.strip()
    if re.fullmatch(r"F[A-Z0-9]{6,}", ref):
        return ref
    path = ref.split("?", 1)[0].split("#", 1)[0]
    found = _FILE_ID.findall(path)
    return found[-1] if found else None


async def shared_file(client: AsyncWebClient, ref: str) -> SharedFile:
    file_id = file_id_in(ref)
    if file_id is None:
        raise FileUnavailable(
            "That is not a Slack file: give the file's link (More actions → Copy link) or its "
            "id, like `F0123ABC`.",
        )
    try:
        answer = await client.files_info(file=file_id)
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        if error in ("file_not_found", "file_deleted", "access_denied"):
            raise FileUnavailable(
                f"The bot cannot see file {file_id} ({error}): it was deleted, or it is not "
                "shared anywhere the bot is.",
                _HOW_TO_SHARE,
            ) from exc
        if error == "missing_scope":
            raise FileUnavailable(
                "The Slack app may not read files (it lacks the files:read scope).",
                "An admin of the Slack app can add files:read and reinstall it.",
            ) from exc
        raise ChatError(f"Slack answered {error or 'an error'} to files.info") from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ChatError(f"Slack could not be reached ({type(exc).__name__})") from exc
    found = answer.get("file") or {}
    url = found.get("url_private_download") or found.get("url_private")
    if found.get("is_external") or not url:
        raise FileUnavailable(
            f"File {file_id} is stored outside Slack (or has no download), so the bot cannot "
            "read it.",
            "Upload the file itself to Slack.",
        )
    return SharedFile(
        id=file_id,
        name=str(found.get("name") or found.get("title") or file_id),
        size=int(found.get("size") or 0),
        source=str(url),
    )


async def read_file(token: str | None, file: SharedFile, chunk_bytes: int) -> AsyncIterator[bytes]:
    """The file's bytes from Slack; ChatError when the download fails or stops short."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=READ_TIMEOUT_SECONDS)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    received = 0
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(file.source, headers=headers, allow_redirects=False) as response,
        ):
            if response.status != 200:
                raise ChatError(f"Slack answered HTTP {response.status} to the file's download")
            if response.content_type == "text/html":
                # What Slack sends a token that may not read the file: its sign-in page.
                raise FileUnavailable(
                    "Slack sent a web page instead of the file: the app may not read files.",
                    "An admin of the Slack app can add the files:read scope and reinstall it.",
                )
            async for chunk in response.content.iter_chunked(chunk_bytes):
                received += len(chunk)
                yield chunk
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ChatError(
            f"Slack's download of {file.name} stopped after {received} bytes "
            f"({type(exc).__name__})",
            unknown_fate=True,
        ) from exc
    if file.size and received < file.size:
        raise ChatError(f"Slack's download of {file.name} ended after {received} bytes")

"""The fake Slack's files (tests/helpers/fake_slack.py): files shared in it (`FakeFile`), whose
`files.info` answers as Slack's does and whose download URL streams the bytes only with the
bot's token (else a sign-in page, as Slack sends), and the upload URL files_upload_v2 sends a
chart's bytes to."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)

# The pattern a generated file repeats: sizes of hundreds of MB cost one block of memory.
_BLOCK = bytes(range(256)) * 4096  # 1 MiB


@dataclass
class FakeFile:
    """A file shared in the fake Slack: its bytes given, or `size` bytes made on the fly."""

    name: str
    content: bytes | None = None
    size: int = 0
    shared_with_bot: bool = True  # else files.info answers file_not_found, as Slack does
    cut_after: int | None = None  # the download drops the connection after this many bytes
    listed_size: int | None = None  # what files.info says, when it is not the true size

    def __post_init__(self) -> None:
        if self.content is not None:
            self.size = len(self.content)

    def chunks(self, chunk_bytes: int = len(_BLOCK)) -> Iterator[bytes]:
        if self.content is not None:
            for start in range(0, len(self.content), chunk_bytes):
                yield self.content[start : start + chunk_bytes]
            return
        left = self.size
        while left > 0:
            block = _BLOCK if left >= len(_BLOCK) else _BLOCK[:left]
            left -= len(block)
            yield block


@dataclass
class SlackCall:
    path: str
    body: dict[str, Any]


@dataclass
class CallRecord:
    """Every call the fake Slack took, in order; `record` wakes whoever waits for one."""

    calls: list[SlackCall] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, path: str, body: dict[str, Any]) -> None:
        with self._changed:
            self.calls.append(SlackCall(path, body))
            self._changed.notify_all()


@dataclass
class SharedFiles(CallRecord):
    """FakeSlack's files part: id -> file, and the bearer token downloads want."""

    files: dict[str, FakeFile] = field(default_factory=dict)
    bot_token: str = "xoxb-test-token-not-real"

    def add_file(self, file: FakeFile) -> str:
        """Share `file` in the fake Slack; answers its id."""
        file_id = f"F{len(self.files) + 1:08d}"
        self.files[file_id] = file
        return file_id

    def file_link(self, file_id: str) -> str:
        """The file as Slack writes it into a slash command's text: `<permalink|name>`."""
        name = self.files[file_id].name
        return f"<https://fake.slack.test/files/U1/{file_id}/{name}|{name}>"

    def file_info(self, base_url: str, file_id: str) -> JSONResponse:
        found = self.files.get(file_id)
        if found is None or not found.shared_with_bot:
            return JSONResponse({"ok": False, "error": "file_not_found"})
        download = f"{base_url}/files-pri/T1-{file_id}/download/{found.name}"
        file = {
            "id": file_id,
            "name": found.name,
            "title": found.name,
            "mimetype": "application/octet-stream",
            "size": found.size if found.listed_size is None else found.listed_size,
            "is_external": False,
            "url_private": download.replace("/download/", "/"),
            "url_private_download": download,
            "permalink": f"https://fake.slack.test/files/U1/{file_id}/{found.name}",
        }
        return JSONResponse({"ok": True, "file": file})

    def add_file_routes(self, app: FastAPI) -> None:
        @app.post("/upload/{file_id}")
        async def upload(file_id: str, request: Request) -> PlainTextResponse:
            # files_upload_v2's middle step: the bytes go to the URL Slack handed out.
            content = await request.body()
            self.record(f"/upload/{file_id}", {"bytes": len(content), "png": b"PNG" in content[:8]})
            return PlainTextResponse(f"OK - {len(content)}")

        @app.get("/files-pri/{team_file}/download/{name}", response_model=None)
        async def download(team_file: str, request: Request) -> Response:
            file_id = team_file.split("-", 1)[-1]
            found = self.files.get(file_id)
            if request.headers.get("authorization") != f"Bearer {self.bot_token}":
                # What Slack sends a download without a token that may read it: a web page.
                self.record(f"/files-pri/{file_id}#unauthorized", {})
                return HTMLResponse("<html><body>Sign in to Slack</body></html>")
            if found is None or not found.shared_with_bot:
                return PlainTextResponse("Not found", status_code=404)
            self.record(f"/files-pri/{file_id}", {"size": found.size})
            headers = {"Content-Length": str(found.size)}
            return StreamingResponse(
                _stream(found), media_type="application/octet-stream", headers=headers
            )


async def _stream(found: FakeFile) -> AsyncIterator[bytes]:
    sent = 0
    for chunk in found.chunks():
        if found.cut_after is not None and sent + len(chunk) > found.cut_after:
            yield chunk[: found.cut_after - sent]
            # An exception mid-body: uvicorn drops the connection, as a network would.
            raise ConnectionResetError("the fake Slack dropped the download")
        sent += len(chunk)
        yield chunk

"""A local fake of Slack's Web API and of response URLs, recording every call (bolt's tests do
the same with a server in a thread). It can be told to answer 429 with Retry-After (per method,
or per channel with its own Retry-After), to answer a channel's calls with an error, and to take
its time over a post that then succeeds. Shared files (`files`, `FakeFile`) answer `files.info`
as Slack does and stream from a download URL that wants the bot's token: fake_slack_files.py."""

from __future__ import annotations

import asyncio
import itertools
import json
import queue
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from tests.helpers.fake_slack_files import FakeFile as FakeFile  # tests share files by it here
from tests.helpers.fake_slack_files import SharedFiles, SlackCall


def channel_id(channel: str) -> str:
    """The id the fake gives a channel named `#name` (ids pass through)."""
    if channel.startswith("#"):
        return "C" + "".join(ch for ch in channel[1:].upper() if ch.isalnum())
    return channel


@dataclass
class FakeSlack(SharedFiles):
    rate_limited: dict[str, int] = field(default_factory=dict)  # method -> 429s still to send
    failing: dict[str, str] = field(default_factory=dict)  # method -> the error it answers
    emails: dict[str, str] = field(default_factory=dict)  # user id -> what users.info answers
    members: list[dict[str, Any]] = field(default_factory=list)  # what users.list answers
    members_per_page: int = 200  # users.list pages (Slack's own pages may be shorter)
    known_channels: list[str] = field(default_factory=list)  # more #names conversations.list shows
    posted_ts: list[str] = field(default_factory=list)  # what chat.postMessage answered, in order
    # channel id -> the Retry-After of each of its next chat.postMessage calls, answered 429
    channel_rate_limits: dict[str, list[float]] = field(default_factory=dict)
    # channel id -> the error every call naming it is answered (channel_not_found, ...)
    channel_errors: dict[str, str] = field(default_factory=dict)
    # seconds the next chat.postMessage calls take; each is recorded (it lands) only then
    post_delays: list[float] = field(default_factory=list)
    # Shared files (`files`, `bot_token`, `add_file`, files.info, downloads) and the record of
    # calls (`calls`, `record`): SharedFiles and CallRecord.
    # Socket Mode: envelopes to push to the connected app, and the acks it sent back.
    socket_outbox: queue.Queue = field(default_factory=queue.Queue)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    _posted: itertools.count = field(default_factory=lambda: itertools.count(1))

    def responses(self) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.path.startswith("/respond/")]

    def wait_for(self, path_prefix: str, count: int, timeout: float = 15.0) -> list[SlackCall]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.path.startswith(path_prefix)]
                if len(found) >= count or time.monotonic() > deadline:
                    return found
                self._changed.wait(timeout=0.05)

    def _members_page(self, query: dict[str, Any]) -> dict[str, Any]:
        """One page of users.list, `members_per_page` at most: the cursor is the next index."""
        start = int(query.get("cursor") or 0)
        end = start + self.members_per_page
        more = {"next_cursor": str(end) if end < len(self.members) else ""}
        return {"members": self.members[start:end], "response_metadata": more}

    def _channels(self) -> list[dict[str, str]]:
        """Every channel the bot has posted to by #name, as conversations.list shows it."""
        names = {str(b.get("channel")) for b in self.api_calls("chat.postMessage")} | set(
            self.known_channels
        )
        return [{"id": channel_id(n), "name": n[1:]} for n in sorted(names) if n.startswith("#")]

    def _history(self, method: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Messages the bot posted in a channel (or one thread), newest first, as Slack lists
        them with include_all_metadata."""
        thread = query.get("ts") if method == "conversations.replies" else None
        found = [
            {"ts": b["_ts"], "text": b.get("text"), "metadata": b.get("metadata")}
            for b in self.api_calls("chat.postMessage")
            if channel_id(str(b.get("channel"))) == query.get("channel")
            and b.get("thread_ts") == thread
        ]
        return list(reversed(found))

    def _channel_fault(self, method: str, body: dict[str, Any]) -> JSONResponse | None:
        """The answer a channel told to fail gets, recorded as `/api/METHOD#429` or `#error`."""
        channel = channel_id(str(body.get("channel") or body.get("channel_id") or ""))
        waits = self.channel_rate_limits.get(channel)
        if method == "chat.postMessage" and waits:
            self.record(f"/api/{method}#429", body)
            return JSONResponse(
                {"ok": False, "error": "ratelimited"},
                status_code=429,
                headers={"Retry-After": f"{waits.pop(0):g}"},
            )
        if channel in self.channel_errors:
            self.record(f"/api/{method}#error", body)
            return JSONResponse({"ok": False, "error": self.channel_errors[channel]})
        return None

    def api_calls(self, method: str) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.path == f"/api/{method}"]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.websocket("/socket")
        async def socket_mode(websocket: WebSocket) -> None:
            # Slack's Socket Mode: hello, then envelopes; the app acks each by envelope_id.
            await websocket.accept()
            await websocket.send_text(json.dumps({"type": "hello", "num_connections": 1}))

            async def forward() -> None:
                while True:
                    try:  # short waits: a thread blocked for good would hold up the exit
                        envelope = await asyncio.to_thread(self.socket_outbox.get, True, 0.2)
                    except queue.Empty:
                        continue
                    await websocket.send_text(json.dumps(envelope))

            sender = asyncio.create_task(forward())
            try:
                while True:
                    ack = json.loads(await websocket.receive_text())
                    self.record("/socket#ack", ack)
                    self.socket_acks.append(ack)
            except WebSocketDisconnect:
                pass
            finally:
                sender.cancel()

        self.add_file_routes(app)

        @app.post("/respond/{key}")
        async def respond(key: str, request: Request) -> dict:
            self.record(f"/respond/{key}", await request.json())
            return {"ok": True}

        # Most methods are POSTs; a few (users.info) are GETs with query parameters.
        @app.api_route("/api/{method}", methods=["GET", "POST"])
        async def web_api(method: str, request: Request) -> JSONResponse:
            raw = await request.body()
            if request.headers.get("content-type", "").startswith("application/json"):
                body = await request.json()
            else:
                body = dict(parse_qsl(raw.decode())) | dict(request.query_params)
            refused = self._channel_fault(method, body)
            if refused is not None:
                return refused
            if method == "chat.postMessage" and self.post_delays:
                await asyncio.sleep(self.post_delays.pop(0))  # slow, and then it lands
            if self.rate_limited.get(method, 0) > 0:
                self.rate_limited[method] -= 1
                self.record(f"/api/{method}#429", body)
                return JSONResponse(
                    {"ok": False, "error": "ratelimited"},
                    status_code=429,
                    headers={"Retry-After": "1"},
                )
            if method in self.failing:
                self.record(f"/api/{method}#failed", body)
                return JSONResponse({"ok": False, "error": self.failing[method]})
            self.record(f"/api/{method}", body)
            if method == "auth.test":
                return JSONResponse(
                    {
                        "ok": True,
                        "user_id": "UBOT",
                        "bot_id": "BBOT",
                        "team_id": "T1",
                        "user": "wallaroo",
                    }
                )
            if method == "users.info":
                email = self.emails.get(str(body.get("user")))
                if email is None:
                    return JSONResponse({"ok": False, "error": "user_not_found"})
                user = {"id": body.get("user"), "profile": {"email": email}}
                return JSONResponse({"ok": True, "user": user})
            if method == "users.list":
                return JSONResponse({"ok": True, **self._members_page(body)})
            if method == "apps.connections.open":
                base = str(request.base_url).rstrip("/").replace("http", "ws", 1)
                return JSONResponse({"ok": True, "url": f"{base}/socket"})
            if method == "files.getUploadURLExternal":
                file_id = f"F{next(self._posted)}"
                upload_url = f"{str(request.base_url).rstrip('/')}/upload/{file_id}"
                return JSONResponse({"ok": True, "upload_url": upload_url, "file_id": file_id})
            if method == "files.completeUploadExternal":
                files = body.get("files")
                files = json.loads(files) if isinstance(files, str) else files or []
                return JSONResponse({"ok": True, "files": files})
            if method in ("views.open", "views.update", "views.push"):
                view = body.get("view")
                view = json.loads(view) if isinstance(view, str) else view or {}
                view_id = body.get("view_id") or f"V{next(self._posted)}"
                return JSONResponse({"ok": True, "view": {**view, "id": view_id}})
            if method == "chat.getPermalink":
                ts = str(body.get("message_ts", ""))
                where = channel_id(str(body.get("channel")))
                link = f"https://fake.slack.test/archives/{where}/p{ts.replace('.', '')}"
                return JSONResponse({"ok": True, "channel": body.get("channel"), "permalink": link})
            if method == "files.info":
                return self.file_info(str(request.base_url).rstrip("/"), str(body.get("file")))
            channel = str(body.get("channel") or body.get("channel_id") or "")
            if method == "conversations.list":
                return JSONResponse({"ok": True, "channels": self._channels()})
            if method in ("conversations.history", "conversations.replies"):
                if channel.startswith("#"):
                    return JSONResponse({"ok": False, "error": "channel_not_found"})
                return JSONResponse({"ok": True, "messages": self._history(method, body)})
            if method == "chat.postMessage":
                ts = f"{1700000000 + next(self._posted)}.000100"
                self.posted_ts.append(ts)
                body["_ts"] = ts  # what Slack answered, for conversations.history
                # Slack takes a #name here and answers the channel's id...
                return JSONResponse({"ok": True, "channel": channel_id(channel), "ts": ts})
            if channel.startswith("#") and method not in ("chat.postEphemeral",):
                # ...while edits, uploads and history calls want the id.
                return JSONResponse({"ok": False, "error": "channel_not_found"})
            return JSONResponse({"ok": True, "channel": body.get("channel"), "ts": body.get("ts")})

        return app

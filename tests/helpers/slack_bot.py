"""The bot as the tests drive it over Slack's HTTP interface: signed slash commands, clicks and
events into its real /slack/events, its Slack a fake (tests/helpers/fake_slack.py).
`running_bot` serves the real app in this process, with a clock the test moves and a way to run
a poll to its end; a `serve` process is driven through the same `Bot`."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.adapters.http import create_http_app
from bot.scheduler import Poller
from bot.services import open_services
from emulator.server import serve_in_thread
from handlers.context import Services
from storage.utc import utc_now
from tests.helpers.clock import MovableClock
from tests.helpers.emulators import Emulator
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.net import HTTP

SIGNING_SECRET = "test-signing-secret-4d1b"
# Where fake Slack servers wind down (the interpreter joins these threads at exit).
_SLACK_STOPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fake-slack-stop")
T = TypeVar("T")


@dataclass
class Bot:
    """A bot answering on `url` (in this process or a `serve` process), its Slack a fake."""

    url: str
    slack: FakeSlack
    slack_url: str
    http: httpx.Client = HTTP  # (a client per request would cost an SSL context each)
    # In this process only (`running_bot`): the app, the loop it runs on, the clock it reads.
    app: Starlette | None = None
    loop: asyncio.AbstractEventLoop | None = None
    clock: MovableClock | None = None

    def command(
        self,
        text: str,
        user: str = "UADMIN",
        *,
        secret: str = SIGNING_SECRET,
        age_seconds: int = 0,
        signed: bool = True,
    ) -> tuple[httpx.Response, str]:
        """POST a slash command as Slack would; returns the HTTP answer and its response key."""
        key = uuid.uuid4().hex
        body = urlencode(
            {
                "command": "/wallaroo",
                "text": text,
                "user_id": user,
                "user_name": user.lower(),
                "team_id": "T1",
                "channel_id": "C1",
                "channel_name": "ml-ops",
                "response_url": f"{self.slack_url}/respond/{key}",
                # Unique, as Slack's are: the bot refuses a trigger id it has seen.
                "trigger_id": f"trigger-{key}",
                "api_app_id": "A1",
            }
        )
        timestamp = str(int(time.time()) - age_seconds)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
            headers |= {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
        return self.http.post(f"{self.url}/slack/events", content=body, headers=headers), key

    def interact(self, payload: dict, *, secret: str = SIGNING_SECRET) -> httpx.Response:
        """POST an interaction (a button click, a modal submission) as Slack would."""
        body = urlencode({"payload": json.dumps(payload)})
        return self.signed_post(body, "application/x-www-form-urlencoded", secret)

    def event(self, event: dict, *, secret: str = SIGNING_SECRET) -> httpx.Response:
        """POST an Events API callback (app_home_opened, ...) as Slack would."""
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": "T1",
                "api_app_id": "A1",
                "event": event,
                "event_id": f"Ev{uuid.uuid4().hex[:8]}",
                "event_time": int(time.time()),
            }
        )
        return self.signed_post(body, "application/json", secret)

    def signed_post(self, body: str, content_type: str, secret: str) -> httpx.Response:
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }
        return self.http.post(f"{self.url}/slack/events", content=body, headers=headers)

    def click(self, action_id: str, value: str, user: str) -> tuple[httpx.Response, str]:
        """Click a button of a message in C1; returns the HTTP answer and its response key."""
        key = uuid.uuid4().hex
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": "T1"},
            "team": {"id": "T1", "domain": "example"},
            "channel": {"id": "C1", "name": "ml-ops"},
            "api_app_id": "A1",
            "trigger_id": f"trigger-{key}",
            "response_url": f"{self.slack_url}/respond/{key}",
            "container": {"type": "message", "channel_id": "C1", "message_ts": "1.0"},
            "actions": [
                {"type": "button", "action_id": action_id, "block_id": "b", "value": value}
            ],
        }
        return self.interact(payload), key

    def reply_to(self, key: str) -> dict:
        (call,) = self.slack.wait_for(f"/respond/{key}", 1) or [None]
        assert call is not None, f"no reply reached response URL {key}"
        return call.body

    def metrics(self) -> str:
        return self.http.get(f"{self.url}/metrics").text

    # --- in this process ----------------------------------------------------------------

    def run(self, work: Callable[[], Coroutine[Any, Any, T]], timeout: float = 30) -> T:
        """Run `work()` on the bot's own event loop (where its services live) and wait."""
        assert self.loop is not None, "only a bot started by running_bot runs work"
        return asyncio.run_coroutine_threadsafe(work(), self.loop).result(timeout)

    @property
    def services(self) -> Services:
        assert self.app is not None, "only a bot started by running_bot has its services here"
        return self.app.state.services

    def drain(self, timeout: float = 30) -> None:
        """Wait until the work the bot's commands and clicks started (rollouts) has ended."""
        self.run(self.services.tasks.drain, timeout)

    @property
    def poller(self) -> Poller:
        assert self.app is not None and self.app.state.poller is not None
        return self.app.state.poller

    def poll_once(self) -> None:
        """One full poll and its delivery, finished: what it would post has been posted, so
        "nothing was posted" can be asserted after it. Only the lease holder polls: a bot
        that is not the holder could not show that anything stayed unposted."""
        self.run(self.poller.poll_once)
        assert self.poller.is_leader, "this bot does not hold the poller lease"


class _LoopOf:
    """The app, remembering the event loop uvicorn runs it on (seen at its lifespan start)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)


@contextmanager
def running_bot(
    emulator: Emulator,
    db_dir: Path,
    bot_token: str = "xoxb-test-token-not-real",
    slack: FakeSlack | None = None,
    clock: MovableClock | None = None,
    **overrides: Any,
) -> Iterator[Bot]:
    """The bot's HTTP app (and its poller) on loopback, its Slack calls going to a fake Slack,
    reading the time from `clock` (a new one, at wall time, unless given)."""
    slack = slack or FakeSlack()
    clock = clock or MovableClock()
    slack_server = serve_in_thread(slack.app())
    slack_url = slack_server.__enter__()
    try:
        settings = emulator.bot_settings(
            db_dir,
            slack_bot_token=bot_token,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=f"{slack_url}/api/",
            **overrides,
        )
        app = create_http_app(settings, clock=clock)
        served = _LoopOf(app)
        with serve_in_thread(served, lifespan="on") as url:
            yield Bot(url, slack, slack_url, HTTP, app, served.loop, clock)
    finally:
        # The bot has stopped: nothing calls this fake any more, and what it recorded stays
        # readable. A server takes uvicorn ~0.2 s to stop; the test need not wait for it.
        _SLACK_STOPS.submit(slack_server.__exit__, None, None, None)


@asynccontextmanager
async def services_on(
    emulator: Emulator,
    db_dir: Path,
    slack: FakeSlack,
    clock: Callable[[], datetime] = utc_now,
    **settings: Any,
) -> AsyncIterator[Services]:
    """The bot's services alone (no HTTP app, no poller), its Slack calls going to `slack`,
    unpaced, reading the time from `clock`: for driving the outbox and polls by hand."""
    with serve_in_thread(slack.app()) as slack_url:
        configured = emulator.bot_settings(
            db_dir,
            slack_bot_token="xoxb-t",
            slack_api_url=f"{slack_url}/api/",
            chatops_channel_pacing_seconds=0,
            **settings,
        )
        async with open_services(configured, clock=clock) as services:
            yield services


def demo_emulator(start_emulator: Callable[..., Emulator], **config: object) -> Emulator:
    """The drift demo, its deployment Running from the start."""
    return start_emulator(seed_demo=True, deployment_startup_seconds=0, **config)

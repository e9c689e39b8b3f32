"""Acknowledgement latency under a slow Wallaroo: 100 concurrent signed `/wallaroo workspaces`
commands while the emulator adds 2,000 ms to every API call.

Prints p50/p99 of the HTTP acknowledgement and the time until every reply reached its response
URL, for the bot (`wallaroo-chatops serve`) and, in the same run, for a minimal slack-bolt
AsyncApp that only acks (the floor). Each server is its own process; the fake Slack (auth.test
and the response URLs) runs on this script's event loop. Targets: the bot's p99 within 1.3x the
minimal app's, every reply delivered, all within 2,000 ms + 1 s.

    .venv/bin/python bench/ack.py [--commands 100] [--latency-ms 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import uvicorn
from aiohttp import web
from fastapi import FastAPI, Request
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import CLIENT_SECRET, free_port, server_process

SIGNING_SECRET = "bench-signing-secret"
TOKEN_PATH = "/auth/realms/master/protocol/openid-connect/token"


def serve_minimal(port: int, slack_api_url: str) -> None:
    """The floor: a bolt AsyncApp that only acks, served the way the bot is."""
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=slack_api_url),
        signing_secret=SIGNING_SECRET,
        token="xoxb-bench",
    )

    @bolt.command("/wallaroo")
    async def ack_only(ack) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(bolt)
    api = FastAPI()

    @api.post("/slack/events")
    async def events(request: Request):
        return await handler.handle(request)

    @api.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    uvicorn.run(api, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class FakeSlack:
    """auth.test and response URLs, recording when each reply arrives."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.expected: set[str] = set()
        self.all_arrived = asyncio.Event()
        self._each: dict[str, asyncio.Event] = {}

    async def arrival(self, key: str) -> None:
        await self._each.setdefault(key, asyncio.Event()).wait()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self.web_api)
        app.router.add_post("/respond/{key}", self.respond)
        return app

    async def web_api(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "user_id": "UBOT", "team_id": "T1", "bot_id": "B1"})

    async def respond(self, request: web.Request) -> web.Response:
        await request.read()
        key = request.match_info["key"]
        self.arrived[key] = time.perf_counter()
        self._each.setdefault(key, asyncio.Event()).set()
        if self.expected and self.expected <= self.arrived.keys():
            self.all_arrived.set()
        return web.json_response({"ok": True})


@asynccontextmanager
async def fake_slack_server(slack: FakeSlack, port: int):
    runner = web.AppRunner(slack.app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def wait_healthy(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(base + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} never became healthy")


def _keys(count: int) -> list[str]:
    return [uuid.uuid4().hex for _ in range(count)]


async def burst(
    base: str, slack_url: str, keys: list[str], slack: FakeSlack | None = None
) -> tuple[list[float], float]:
    """Send one signed command per response key, all at once: ack latencies (s), start time.

    With `slack`, the warm-up command's reply is awaited first, so that its Wallaroo call does
    not hold one of the bot's pooled connections during the burst.
    """
    verifier = SignatureVerifier(SIGNING_SECRET)
    connector = aiohttp.TCPConnector(limit=len(keys))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(key: str) -> float:
            body = urlencode(
                {
                    "command": "/wallaroo",
                    "text": "workspaces",
                    "user_id": "UBENCH",
                    "user_name": "bench",
                    "team_id": "T1",
                    "channel_id": "C1",
                    "response_url": f"{slack_url}/respond/{key}",
                    "trigger_id": "1",
                    "api_app_id": "A1",
                }
            )
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body),
            }
            started = time.perf_counter()
            async with session.post(f"{base}/slack/events", data=body, headers=headers) as r:
                await r.read()
                if r.status != 200:
                    raise RuntimeError(f"ack failed: HTTP {r.status}")
            return time.perf_counter() - started

        # Warm up: the first request pays for auth.test and the token.
        warm = uuid.uuid4().hex
        await one(warm)
        if slack is not None:
            await asyncio.wait_for(slack.arrival(warm), 60)
        started = time.perf_counter()
        acks = await asyncio.gather(*(one(k) for k in keys))
    return list(acks), started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def measure(count: int, latency_ms: int) -> None:
    slack = FakeSlack()
    emulator_port, bot_port, minimal_port, slack_port = (free_port() for _ in range(4))
    async with fake_slack_server(slack, slack_port) as slack_url:
        emulator = [
            "-m",
            "bot",
            "emulator",
            "--port",
            str(emulator_port),
            "--seed-demo",
            "--client-secret",
            CLIENT_SECRET,
            "--startup-seconds",
            "0",
        ]
        minimal = [__file__, "--serve-minimal", str(minimal_port), f"{slack_url}/api/"]
        with (
            tempfile.TemporaryDirectory() as tmp,
            server_process(emulator, emulator_port) as (emulator_url, _),
            server_process(minimal, minimal_port) as (minimal_url, _),
        ):
            os.environ.update(
                {
                    "SLACK_BOT_TOKEN": "xoxb-bench",
                    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                    "SLACK_API_URL": f"{slack_url}/api/",
                    "WALLAROO_API_URL": f"{emulator_url}/v1/api",
                    "WALLAROO_TOKEN_URL": emulator_url + TOKEN_PATH,
                    "WALLAROO_CLIENT_SECRET": CLIENT_SECRET,
                    "DATABASE_URL": f"sqlite:///{tmp}/b.db",
                }
            )
            bot = ["-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(bot_port)]
            with server_process(bot, bot_port) as (bot_url, _):
                await wait_healthy(bot_url)
                await wait_healthy(minimal_url)
                async with aiohttp.ClientSession() as session:
                    fault = {"path_prefix": "/v1/api/", "latency_ms": latency_ms}
                    async with session.post(f"{emulator_url}/emulator/faults", json=fault):
                        pass
                floor_acks, _ = await burst(minimal_url, slack_url, _keys(count))
                keys = _keys(count)
                slack.expected = set(keys)
                bot_acks, started = await burst(bot_url, slack_url, keys, slack)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(slack.all_arrived.wait(), latency_ms / 1000 + 30)
    delivered = [slack.arrived[k] - started for k in keys if k in slack.arrived]
    ratio = percentile(bot_acks, 99) / percentile(floor_acks, 99)
    print(f"{count} concurrent signed commands; the emulator adds {latency_ms} ms to every call")
    for label, acks in (
        ("minimal bolt app (ack only)", floor_acks),
        ("wallaroo-chatops bot", bot_acks),
    ):
        print(
            f"{label:28s} ack p50 {percentile(acks, 50) * 1000:6.0f} ms   "
            f"p99 {percentile(acks, 99) * 1000:6.0f} ms   max {max(acks) * 1000:6.0f} ms"
        )
    print(f"bot p99 / floor p99: {ratio:.2f}x  (target <= 1.3x)")
    if delivered:
        print(
            f"replies delivered: {len(delivered)}/{count}; all within {max(delivered):.2f} s "
            f"of the burst (median {statistics.median(delivered):.2f} s; target <= "
            f"{latency_ms / 1000 + 1:.1f} s)"
        )
    else:
        print(f"replies delivered: 0/{count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=2000)
    parser.add_argument(
        "--serve-minimal", nargs=2, metavar=("PORT", "SLACK_API_URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_minimal:
        serve_minimal(int(args.serve_minimal[0]), args.serve_minimal[1])
    else:
        asyncio.run(measure(args.commands, args.latency_ms))


if __name__ == "__main__":
    main()

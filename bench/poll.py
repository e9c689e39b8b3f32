"""One poll cycle over N watched objects (N/2 deployments, N/2 subscribed assays, v1 or v2),
each Wallaroo call taking an extra 20 ms, for the bot's poller and for the same poller one
request at a time; the alert latency from a breaching result becoming available to its message
reaching a fake Slack; and this process's peak RSS (the bot, plus the fake Slack and the loader).

    .venv/bin/python bench/poll.py [--objects 2000] [--assays v1|v2] [--api current|seed]
                                   [--latency-ms 20] [--poll-seconds 5]

The emulator runs in its own process (seeded with the drift demo, answering as today's Wallaroo
unless --api seed); the bot's poller runs here, as `serve` runs it. All but one assay watch a
feature that does not drift and one (the probe) the one that does, so moving the emulator's
clock a day makes exactly one alert. v1 results come from `assays/get_assay_results` (today) or
`assays/get_results` (seed), v2 results from `v2/api/assays/get_results`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CLIENT_SECRET, free_port, server_process
from bot.chat.slack import SlackChat, build_web_client
from bot.scheduler import Poller
from bot.services import open_services
from bot.settings import Settings
from handlers.context import Services
from storage.watches import AssaySubscription, DeploymentWatch

PROBE_CHANNEL = "CPROBE"
DAY = timedelta(days=1)


class FakeSlack:
    """Just enough Web API for alerts (posts, edits, file uploads); notes when posts arrive."""

    def __init__(self) -> None:
        self.posts: list[tuple[float, dict]] = []
        self.probe_posted = asyncio.Event()
        self._n = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self.web_api)
        app.router.add_post("/upload/{file_id}", self.upload)
        return app

    async def web_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = dict(await request.post()) if request.content_type != "application/json" else {}
        if request.content_type == "application/json":
            body = await request.json()
        self._n += 1
        if method == "chat.postMessage":
            self.posts.append((time.perf_counter(), body))
            if body.get("channel") == PROBE_CHANNEL and not body.get("thread_ts"):
                self.probe_posted.set()
        if method == "files.getUploadURLExternal":
            url = f"{request.scheme}://{request.host}/upload/F{self._n}"
            return web.json_response({"ok": True, "upload_url": url, "file_id": f"F{self._n}"})
        if method == "files.completeUploadExternal":
            return web.json_response({"ok": True, "files": []})
        return web.json_response({"ok": True, "channel": body.get("channel"), "ts": f"{self._n}.0"})

    async def upload(self, request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="OK")


@dataclasses.dataclass
class Load:
    workspace_id: int
    assay_ids: list[str]
    pipelines: list[dict]


def load_emulator(url: str, count: int, assays: str, api: str) -> Load:
    """Load the emulator from another process (bench/poll_load.py), so that this one, whose
    memory is measured, holds the bot alone and never imports the emulator."""
    loader = [sys.executable, str(Path(__file__).with_name("poll_load.py"))]
    done = subprocess.run(
        [*loader, url, str(count), assays, api], check=True, capture_output=True, text=True
    )
    return Load(**json.loads(done.stdout))


async def cycle_seconds(poller: Poller, *, together: bool) -> float:
    started = time.perf_counter()
    if together:
        await asyncio.gather(poller.poll_deployments(), poller.poll_assay_results())
    else:
        await poller.poll_deployments()
        await poller.poll_assay_results()
    return time.perf_counter() - started


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class LockedCounter(logging.Handler):
    """Counts log records that say SQLite refused a writer ("database is locked"): with the
    60 s busy timeout (storage/database.py) a writer queues instead, so this stays 0."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info)
                                      if record.exc_info else "")  # fmt: skip
        if "database is locked" in text:
            self.count += 1


async def measure(args: argparse.Namespace) -> None:
    count = args.objects // 2
    locked = LockedCounter()
    logging.getLogger().addHandler(locked)
    emulator_port, slack_port = free_port(), free_port()
    slack = FakeSlack()
    runner = web.AppRunner(slack.app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", slack_port).start()
    emulator = ["-m", "bot", "emulator", "--port", str(emulator_port), "--seed-demo"]
    emulator += ["--client-secret", CLIENT_SECRET, "--startup-seconds", "0", "--api", args.api]
    with tempfile.TemporaryDirectory() as tmp, server_process(emulator, emulator_port) as (url, _):
        print(
            f"loading the emulator ({args.api}): {count} deployments, {count} {args.assays} "
            "assays …",
            flush=True,
        )
        load = await asyncio.to_thread(load_emulator, url, count, args.assays, args.api)
        settings = Settings(
            slack_bot_token="xoxb-bench",
            slack_signing_secret="bench",
            slack_api_url=f"http://127.0.0.1:{slack_port}/api/",
            wallaroo_url=url,
            wallaroo_client_secret=CLIENT_SECRET,
            wallaroo_assays=args.assays,
            database_url=f"sqlite:///{tmp}/bench.db",
            chatops_poll_seconds=args.poll_seconds,
        )
        chat = SlackChat(build_web_client(settings))
        async with open_services(settings, chat=chat) as services:
            await subscribe_all(services, load)
            poller = Poller(services)
            await poller.poll_once()  # first sight: cursors and deployment health recorded
            async with aiohttp.ClientSession() as http:
                for prefix in ("/v1/api/", "/v2/api/"):
                    fault = {"path_prefix": prefix, "latency_ms": args.latency_ms}
                    await (await http.post(f"{url}/emulator/faults", json=fault)).release()

            cycles = [await cycle_seconds(poller, together=True) for _ in range(3)]
            cycle = statistics.median(cycles)
            listed = ", ".join(f"{c:.2f}" for c in cycles)
            print(f"poll cycle, bot's poller:      {cycle:.2f} s (median of 3: {listed})")
            # The same poller, one request at a time: the same calls through the same client.
            one_at_a_time = dataclasses.replace(
                services,
                settings=settings.model_copy(update={"chatops_poll_concurrency": 1}),
            )
            sequential = await cycle_seconds(Poller(one_at_a_time), together=False)
            print(f"poll cycle, one at a time:     {sequential:.2f} s")
            print(
                f"speed-up:                      {sequential / cycle:.1f}x (target >= 15x; "
                "cycle target <= 3 s)",
                flush=True,
            )

            assert not slack.posts, "no alert expected before the clock moves"
            polling_rss = peak_rss_mib()  # matplotlib is loaded with the first chart, below
            latency = await alert_latency(poller, slack, url, args.poll_seconds)
            others = [b for _, b in slack.posts if b.get("channel") != PROBE_CHANNEL]
            print(
                f"alert latency:                 {latency:.2f} s (poll interval "
                f"{args.poll_seconds:g} s; target <= {args.poll_seconds + 2:g} s)"
            )
            print(f"other messages:                {len(others)} (expected 0)")
            print(f"'database is locked':          {locked.count} (expected 0)")
            print(
                f"peak RSS of this process:      {peak_rss_mib():.0f} MiB with {2 * count} "
                f"watched objects, {polling_rss:.0f} MiB before the first chart (the bot and "
                "its fake Slack; target <= 150 MB at 2,000)"
            )
    await runner.cleanup()


async def subscribe_all(services: Services, load: Load) -> None:
    async with services.sessions() as session:
        for i, assay_id in enumerate(load.assay_ids):
            channel = PROBE_CHANNEL if i == 0 else f"C{i:05d}"
            session.add(
                AssaySubscription(
                    assay_id=assay_id,
                    assay_name=f"bench assay {i}",
                    pipeline_name="housepricepipe",
                    channel=channel,
                    created_by="b",
                )
            )
        for pipeline in load.pipelines:
            session.add(
                DeploymentWatch(
                    workspace_id=load.workspace_id,
                    workspace_name="housepricedrift",
                    pipeline_id=pipeline["id"],
                    pipeline_name=pipeline["name"],
                    channel="CWATCH",
                    created_by="b",
                )
            )
        await session.commit()


async def alert_latency(poller: Poller, slack: FakeSlack, url: str, poll_seconds: float) -> float:
    """From the clock move that makes the probe's breaching result available to its post."""
    await poller.start()
    await asyncio.sleep(poll_seconds / 2)  # somewhere inside a poll interval
    async with aiohttp.ClientSession() as http:
        clock = {"advance_seconds": 86_400}
        await (await http.post(f"{url}/emulator/clock", json=clock)).release()
    available = time.perf_counter()
    await asyncio.wait_for(slack.probe_posted.wait(), timeout=poll_seconds * 4 + 60)
    arrived = next(t for t, b in slack.posts if b.get("channel") == PROBE_CHANNEL)
    await poller.stop()
    return arrived - available


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=2000, help="watched objects, half each")
    parser.add_argument("--assays", choices=["v1", "v2"], default="v1")
    parser.add_argument("--api", choices=["current", "seed"], default="current")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()

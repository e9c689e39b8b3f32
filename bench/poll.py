"""One poll cycle over 1,000 watched deployments and 1,000 subscribed assays, each Wallaroo
call taking an extra 20 ms, for the bot's poller and for a one-request-at-a-time loop over the
same client; and the alert latency from a breaching result becoming available to its message
reaching a fake Slack.

    .venv/bin/python bench/poll.py [--count 1000] [--latency-ms 20] [--poll-seconds 5]

The emulator runs in its own process (seeded with the drift demo); the bot's poller runs here,
as `serve` runs it. 999 assays watch a feature that does not drift and one (the probe) the one
that does, so moving the emulator's clock a day makes exactly one alert.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CLIENT_SECRET, TOKEN_PATH, free_port, server_process
from bot.chat import SlackChat, build_web_client
from bot.scheduler import Poller
from bot.services import open_services
from bot.settings import Settings
from emulator.seed import assay_request
from storage.alerts import get_cursor
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


async def call(session: aiohttp.ClientSession, base: str, headers: dict, path: str, body: dict):
    async with session.post(f"{base}/v1/api/{path}", json=body, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {await response.text()}")
        return await response.json()


async def load_emulator(base: str, count: int) -> tuple[int, list[int], list[dict]]:
    """`count` deployed copies of the demo pipeline and `count` active assays on it."""
    async with aiohttp.ClientSession() as session:
        basic = {"Authorization": aiohttp.encode_basic_auth("api-client", CLIENT_SECRET)}
        async with session.post(
            base + TOKEN_PATH, data={"grant_type": "client_credentials"}, headers=basic
        ) as response:
            headers = {"Authorization": f"Bearer {(await response.json())['access_token']}"}
        listed = await call(session, base, headers, "pipelines/list_pipelines", {})
        demo = listed["pipelines"][0]
        workspace_id, pipeline_id = demo["workspace"]["id"], demo["pipeline"]["id"]
        limit = asyncio.Semaphore(32)

        async def copy(i: int) -> dict:
            name = f"bench{i}"
            body = {
                "name": name,
                "workspace_id": workspace_id,
                "source_pipeline": pipeline_id,
                "deploy": name,
            }
            async with limit:
                copied = await call(session, base, headers, "pipelines/copy", body)
            return {"id": copied["pipeline_pk_id"], "name": name}

        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        baseline_ms = int((midnight - DAY).timestamp() * 1000)

        async def assay(i: int) -> int:
            request = assay_request(
                name=f"bench assay {i}",
                workspace_id=workspace_id,
                pipeline_id=pipeline_id,
                pipeline="housepricepipe",
                model="housepricemodel",
                baseline_start_ms=baseline_ms,
                baseline_end_ms=baseline_ms + 86_400_000,
            )
            # Only the probe watches the drifting feature 0; the rest feature 1.
            request["iopath"] = "input 0 0" if i == 0 else "input 0 1"
            async with limit:
                return (await call(session, base, headers, "assays/create", request))["assay_id"]

        pipelines = await asyncio.gather(*(copy(i) for i in range(count)))
        assays = await asyncio.gather(*(assay(i) for i in range(count)))
        return workspace_id, assays, pipelines


async def sequential_cycle(poller: Poller) -> float:
    """The same work, one request at a time, through the same client."""
    services = poller.services
    client = services.wallaroo
    started = time.perf_counter()
    async with services.sessions() as session:
        from storage.watches import list_subscriptions, list_watches

        watches = await list_watches(session)
        subscriptions = await list_subscriptions(session)
        cursors = {s.assay_id: await get_cursor(session, s.assay_id) for s in subscriptions}
    deployments = {}
    for workspace_id in {w.workspace_id for w in watches}:
        for item in await client.list_pipelines(workspace_id):
            deployments[item.pipeline.id] = item.pipeline.deployment
    for watch in watches:
        deployment = deployments[watch.pipeline_id]
        await client.get_deployment_status(deployment.deploy_id, deployment.id)
    for subscription in subscriptions:
        await client.get_assay_results(subscription.assay_id, start=cursors[subscription.assay_id])
    return time.perf_counter() - started


async def measure(count: int, latency_ms: float, poll_seconds: float) -> None:
    emulator_port, slack_port = free_port(), free_port()
    slack = FakeSlack()
    runner = web.AppRunner(slack.app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", slack_port).start()
    emulator = ["-m", "bot", "emulator", "--port", str(emulator_port), "--seed-demo"]
    emulator += ["--client-secret", CLIENT_SECRET, "--startup-seconds", "0"]
    with tempfile.TemporaryDirectory() as tmp, server_process(emulator, emulator_port) as (url, _):
        print(f"loading the emulator: {count} deployments, {count} assays …", flush=True)
        workspace_id, assays, pipelines = await load_emulator(url, count)
        settings = Settings(
            slack_bot_token="xoxb-bench",
            slack_signing_secret="bench",
            slack_api_url=f"http://127.0.0.1:{slack_port}/api/",
            wallaroo_api_url=f"{url}/v1/api",
            wallaroo_token_url=url + TOKEN_PATH,
            wallaroo_client_secret=CLIENT_SECRET,
            database_url=f"sqlite:///{tmp}/bench.db",
            chatops_poll_seconds=poll_seconds,
        )
        chat = SlackChat(build_web_client(settings))
        async with open_services(settings, chat=chat) as services:
            async with services.sessions() as session:
                for i, assay_id in enumerate(assays):
                    channel = PROBE_CHANNEL if i == 0 else f"C{i:05d}"
                    session.add(
                        AssaySubscription(assay_id=assay_id, channel=channel, created_by="b")
                    )
                for pipeline in pipelines:
                    session.add(
                        DeploymentWatch(
                            workspace_id=workspace_id,
                            workspace_name="housepricedrift",
                            pipeline_id=pipeline["id"],
                            pipeline_name=pipeline["name"],
                            channel="CWATCH",
                            created_by="b",
                        )
                    )
                await session.commit()
            poller = Poller(services)
            await poller.poll_once()  # first sight: cursors and deployment health recorded
            async with aiohttp.ClientSession() as http:
                fault = {"path_prefix": "/v1/api/", "latency_ms": latency_ms}
                await (await http.post(f"{url}/emulator/faults", json=fault)).release()

            cycles = []
            for _ in range(3):
                started = time.perf_counter()
                await asyncio.gather(poller.poll_deployments(), poller.poll_assay_results())
                cycles.append(time.perf_counter() - started)
            cycle = statistics.median(cycles)
            print(
                f"poll cycle, bot's poller:      {cycle:.2f} s (median of 3: "
                + ", ".join(f"{c:.2f}" for c in cycles)
                + ")",
                flush=True,
            )
            sequential = await sequential_cycle(poller)
            calls = 2 * count + 1
            print(f"poll cycle, one at a time:     {sequential:.2f} s ({calls} calls)")
            print(
                f"speed-up:                      {sequential / cycle:.1f}x (target >= 15x; "
                "cycle target <= 3 s)",
                flush=True,
            )

            assert not slack.posts, "no alert expected before the clock moves"
            await poller.start()
            await asyncio.sleep(poll_seconds / 2)  # somewhere inside a poll interval
            async with aiohttp.ClientSession() as http:
                clock = {"advance_seconds": 86_400}
                await (await http.post(f"{url}/emulator/clock", json=clock)).release()
            available = time.perf_counter()
            await asyncio.wait_for(slack.probe_posted.wait(), timeout=poll_seconds * 4 + 60)
            arrived = next(t for t, b in slack.posts if b.get("channel") == PROBE_CHANNEL)
            latency = arrived - available
            await poller.stop()
            others = [b for _, b in slack.posts if b.get("channel") != PROBE_CHANNEL]
            print(
                f"alert latency:                 {latency:.2f} s (poll interval "
                f"{poll_seconds:g} s; target <= {poll_seconds + 2:g} s)"
            )
            print(f"other messages:                {len(others)} (expected 0)")
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(measure(args.count, args.latency_ms, args.poll_seconds))


if __name__ == "__main__":
    main()

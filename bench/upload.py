"""`model upload` of a large file: the fake Slack serves it, the bot (`serve`, its own process)
streams it into the emulator (its own process), and this prints the throughput against a plain
streamed copy between the same two servers (measured in the same run) and the bot's peak RSS.

Targets (README): the bot's RSS grows by less than 64 MiB over the upload; its throughput is
within 2x of the plain copy's.

    .venv/bin/python bench/upload.py [--mb 500] [--api current|seed]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import httpx
from slack_sdk.signature import SignatureVerifier

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import CLIENT_SECRET, free_port, service_token_headers
from bot.wallaroo.uploads import MultipartStream, conversion_for

ROOT = Path(__file__).resolve().parents[1]
SIGNING_SECRET, BOT_TOKEN = "bench-signing-secret", "xoxb-test-token-not-real"
WORKSPACE_ID, WORKSPACE = 1, "housepricedrift"  # the demo's, seeded in the emulator
CHUNK = 1 << 20
MIB = 1024 * 1024

# The servers, each in a process of its own (so none of them shares a GIL with what it serves).
EMULATOR = """
import sys
from pathlib import Path
from emulator.app import create_app
from emulator.config import EmulatorConfig
from emulator.server import serve_forever
config = EmulatorConfig(api=sys.argv[2], model_dir=Path(sys.argv[3]), client_secret=sys.argv[4],
                        seed_demo=True, deployment_startup_seconds=0)
serve_forever(create_app(config), "127.0.0.1", int(sys.argv[1]), "warning")
"""
FAKE_SLACK = """
import sys
from emulator.server import serve_forever
from tests.helpers.fake_slack import FakeFile, FakeSlack
slack = FakeSlack()
slack.add_file(FakeFile("warm-up.onnx", size=2 * 1024 * 1024))  # F00000001
slack.add_file(FakeFile("bench-model.onnx", size=int(sys.argv[2])))  # F00000002
serve_forever(slack.app(), "127.0.0.1", int(sys.argv[1]), "warning")
"""


ROUNDS = 3


def rss_mib(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (the peak so far) of process `pid`, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


@contextlib.contextmanager
def process(args: list[str], port: int, log: Path, env: dict[str, str] | None = None):
    """A server process (cwd: the repository); yields its URL and pid, stops it on exit."""
    with log.open("w") as out:
        started = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), 0.2),
                ):
                    break
                if time.monotonic() > deadline or started.poll() is not None:
                    raise RuntimeError(f"{args[:2]} did not start: see {log}")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}", started.pid
        finally:
            started.terminate()
            started.wait(timeout=10)


@contextlib.contextmanager
def servers(api: str, size: int, work: Path) -> Iterator[tuple[str, str, str, int, int]]:
    """The emulator, the fake Slack and the bot; yields their URLs, the bot's pid and the
    emulator's."""
    emulator_port, slack_port, bot_port = free_port(), free_port(), free_port()
    emulator_args = ["-c", EMULATOR, str(emulator_port), api, str(work / "models"), CLIENT_SECRET]
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": f"http://127.0.0.1:{slack_port}/api/",
        "WALLAROO_URL": f"http://127.0.0.1:{emulator_port}",
        "WALLAROO_CLIENT_SECRET": CLIENT_SECRET,
        "DATABASE_URL": f"sqlite:///{work}/bot.db",
        "CHATOPS_ADMINS": "UADMIN",
        "CHATOPS_LOG_LEVEL": "WARNING",
    }
    slack_args = ["-c", FAKE_SLACK, str(slack_port), str(size)]
    bot_args = ["-m", "bot", "serve", "--port", str(bot_port)]
    with (
        process(emulator_args, emulator_port, work / "emulator.log") as (emulator, emulator_pid),
        process(slack_args, slack_port, work / "slack.log") as (slack, _),
        process(bot_args, bot_port, work / "bot.log", env) as (bot, bot_pid),
    ):
        yield emulator, slack, bot, bot_pid, emulator_pid


async def plain_copy(emulator: str, slack: str, api: str, size: int) -> float:
    """Seconds for the same bytes straight from the fake Slack into the same upload call the
    bot makes, by aiohttp in this process: the floor the bot is compared with."""
    timeout = aiohttp.ClientTimeout(total=None, sock_read=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        headers = await service_token_headers(session, emulator)
        started = time.perf_counter()
        download = f"{slack}/files-pri/T1-F00000002/download/bench-model.onnx"
        bearer = {"Authorization": f"Bearer {BOT_TOKEN}"}
        async with session.get(download, headers=bearer) as got:
            got.raise_for_status()
            chunks: AsyncIterator[bytes] = got.content.iter_chunked(CHUNK)
            name = f"plain{uuid.uuid4().hex[:8]}"
            if api == "current":
                metadata = {"name": name, "visibility": "private", "workspace_id": WORKSPACE_ID}
                metadata["conversion"] = conversion_for("onnx")
                body = MultipartStream({"metadata": metadata}, "bench-model.onnx", chunks)
                url = f"{emulator}/v1/api/models/upload"
                sent = {**headers, "Content-Type": body.content_type}
                data: object = body.__aiter__()
            else:
                query = {"name": name, "filename": "bench-model.onnx"}
                url = f"{emulator}/v1/api/models/upload_stream?" + urlencode(
                    {**query, "workspace_id": WORKSPACE_ID}
                )
                sent = {**headers, "Content-Type": "application/octet-stream"}
                data = chunks
            async with session.post(url, data=data, headers=sent) as answer:
                answer.raise_for_status()
        return time.perf_counter() - started


class Replies:
    """A response URL in this process: the bot's reply to a command arrives here when the
    upload is over, so its end is seen without polling the emulator while it works."""

    def __init__(self) -> None:
        self.received: dict[str, threading.Event] = {}
        self.texts: dict[str, str] = {}
        replies = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.path.rsplit("/", 1)[-1]
                replies.texts[key] = json.loads(body or b"{}").get("text", "")
                self.send_response(200)
                self.end_headers()
                replies.received.setdefault(key, threading.Event()).set()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/respond/{key}"


def bot_upload(bot: str, replies: Replies, file_id: str, timeout: float) -> float:
    """Seconds from the signed command until the bot's reply says the upload is done."""
    key = uuid.uuid4().hex
    done = replies.received.setdefault(key, threading.Event())
    body = urlencode(
        {
            "command": "/wallaroo", "user_id": "UADMIN", "user_name": "admin",
            "text": f"model upload {WORKSPACE} bench{key[:8]} {file_id}",
            "team_id": "T1", "channel_id": "C1", "channel_name": "bench",
            "response_url": replies.url(key), "trigger_id": key, "api_app_id": "A1",
        }
    )  # fmt: skip
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }
    started = time.perf_counter()
    httpx.post(f"{bot}/slack/events", content=body, headers=headers, timeout=10).raise_for_status()
    if not done.wait(timeout):
        raise RuntimeError(f"the bot did not answer the upload of {file_id} in {timeout:.0f} s")
    took = time.perf_counter() - started
    if "Uploaded model" not in replies.texts[key]:
        raise RuntimeError(f"the bot's upload of {file_id} failed: {replies.texts[key]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=500, help="the file's size in MiB (500)")
    parser.add_argument("--api", choices=("current", "seed"), default="current")
    args = parser.parse_args()
    size = args.mb * MIB
    work = Path(tempfile.mkdtemp(prefix="chatops-bench-upload-"))
    try:
        replies = Replies()
        with servers(args.api, size, work) as (emulator, slack, bot, bot_pid, emulator_pid):
            bot_upload(bot, replies, "F00000001", 60)  # warm-up: the upload path's imports
            before = rss_mib(bot_pid, "VmHWM")
            # Alternated, best of ROUNDS each: the first transfer of a run pays for cold
            # caches on either side, whichever goes first.
            plains, tooks = [], []
            for _ in range(ROUNDS):
                plains.append(asyncio.run(plain_copy(emulator, slack, args.api, size)))
                tooks.append(bot_upload(bot, replies, "F00000002", 600))
            plain, took = min(plains), min(tooks)
            peak = rss_mib(bot_pid, "VmHWM")
            stored_peak = rss_mib(emulator_pid, "VmHWM")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    grew = peak - before
    print(f"model upload of {args.mb} MiB, API {args.api}, best of {ROUNDS} alternated runs")
    print(
        "  runs (s): plain "
        + ", ".join(f"{t:.2f}" for t in plains)
        + "; bot "
        + ", ".join(f"{t:.2f}" for t in tooks)
    )
    print(
        f"plain streamed copy (fake Slack -> emulator): {plain:6.2f} s,"
        f" {args.mb / plain:6.1f} MiB/s"
    )
    print(
        f"through the bot (serve, its own process):     {took:6.2f} s,"
        f" {args.mb / took:6.1f} MiB/s"
        f" ({took / plain:.2f}x the plain copy; target < 2x)"
    )
    print(
        f"the bot's peak RSS (VmHWM): {before:.0f} MiB before, {peak:.0f} MiB after"
        f" (grew {grew:.0f} MiB; target < 64)"
    )
    print(f"the emulator's peak RSS: {stored_peak:.0f} MiB (it stores uploads as they stream)")
    return 0 if grew < 64 and took < 2 * plain else 1


if __name__ == "__main__":
    sys.exit(main())

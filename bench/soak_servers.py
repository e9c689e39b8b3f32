"""The soak test's servers: a PostgreSQL cluster that can be restarted, the emulator in a thread
with a recorder of the deploy and undeploy calls it received (per pipeline), a fake Slack whose
answers can be slowed, and `serve` replicas that can be killed and started again.

The fake Slack and the PostgreSQL binaries' lookup are the tests' own (tests/helpers): `bench/`
may import anything, and a second copy of them would drift from the one the tests keep true."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.app import create_app_for_state
from emulator.config import EmulatorConfig
from emulator.seed import seed_demo
from emulator.server import serve_in_thread
from emulator.state import build_state
from tests.helpers.emulators import Emulator
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.net import HTTP, free_port, healthy, wait_until
from tests.helpers.postgres import USER, _binary, create_database

ROLLOUT_PATHS = ("/v1/api/pipelines/deploy", "/v1/api/pipelines/undeploy")


class PostgresCluster:
    """A private cluster in a temporary folder (as tests/helpers/postgres.py makes one), which
    `restart()` stops and starts again on the same port."""

    def __init__(self) -> None:
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.base = Path(tempfile.mkdtemp(prefix="chatops-soak-pg-"))
        self.base.chmod(0o755)
        if self.as_user:
            shutil.chown(self.base, "postgres", "postgres")
        self.data, self.port = self.base / "data", free_port()
        self.pg_ctl = _binary("pg_ctl")
        initdb = _binary("initdb")
        self._run(initdb, "-D", str(self.data), "-U", USER, "--auth=trust")
        self._start()

    def _run(self, *args: str) -> None:
        quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
        subprocess.run([*self.as_user, *args], check=True, **quiet)

    def _start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c synchronous_commit=off -c max_connections=200"
        log = str(self.base / "server.log")
        self._run(self.pg_ctl, "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/postgres"

    def restart(self) -> None:
        # Fast: open connections are cut, as a failover or an operator's restart does.
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")
        self._start()

    def stop(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


class RolloutRecorder:
    """ASGI middleware in front of the emulator: counts deploy and undeploy calls per
    (path, pipeline_id) that may have taken effect: answered 2xx, or 5xx (a fault sent after
    the work, or a gateway's unknown), not those refused with a 4xx (a 401 for an expired token
    is followed by the same call with a new one, rightly)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls: Counter[tuple[str, int]] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in ROLLOUT_PATHS:
            await self.app(scope, receive, send)
            return
        body, replay = await _read_body(receive)
        try:
            pipeline_id = int(json.loads(body or b"{}").get("pipeline_id"))
        except (ValueError, TypeError, AttributeError):
            pipeline_id = -1
        status = 0

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, replay, noting)
        finally:
            if not 400 <= status < 500:
                self.calls[(scope["path"], pipeline_id)] += 1


class SlowSlack:
    """ASGI middleware in front of the fake Slack: `slow_posts` chat.postMessage calls to
    `slow_channel` wait `delay` seconds before the fake takes (and records) them, as a Slack
    that answers late but does the work."""

    def __init__(self, app: ASGIApp, slow_channel: str) -> None:
        self.app, self.slow_channel = app, slow_channel
        self.slow_posts, self.delay, self.slowed = 0, 12.0, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != "/api/chat.postMessage":
            await self.app(scope, receive, send)
            return
        body, replay = await _read_body(receive)
        if self.slow_posts > 0 and self.slow_channel.encode() in body:
            self.slow_posts -= 1
            self.slowed += 1
            await asyncio.sleep(self.delay)
        await self.app(scope, replay, send)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:  # what comes after the body: a disconnect, when it comes
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


@contextmanager
def emulator(tmp: Path) -> Iterator[tuple[Emulator, RolloutRecorder]]:
    """The drift demo (today's API), deployments Running at once, in a thread."""
    config = EmulatorConfig(
        model_dir=tmp / "models", deployment_startup_seconds=0, api="current", seed_demo=True
    )
    (tmp / "models").mkdir()
    state = build_state(config)
    app = create_app_for_state(state)
    demo = seed_demo(app, state)
    recorder = RolloutRecorder(app)
    with serve_in_thread(recorder) as url:
        yield Emulator(url, config, state, HTTP, demo), recorder


@contextmanager
def fake_slack(slow_channel: str) -> Iterator[tuple[FakeSlack, SlowSlack, str]]:
    slack = FakeSlack()
    slow = SlowSlack(slack.app(), slow_channel)
    with serve_in_thread(slow) as url:
        yield slack, slow, url


@dataclass
class Replica:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None
    kills: int = field(default=0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--port", str(self.port)],
                env={**self.env, "CHATOPS_REPLICA_ID": self.name},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_healthy(self) -> None:
        def up() -> bool:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited: see {self.log}")
            return healthy(self.url)

        wait_until(up, timeout=60, every=0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@contextmanager
def replicas(env: dict[str, str], logs: Path, count: int = 2) -> Iterator[list[Replica]]:
    started = [
        Replica(f"replica-{chr(97 + i)}", free_port(), env, logs / f"replica-{chr(97 + i)}.log")
        for i in range(count)
    ]
    with ExitStack() as stack:
        for replica in started:
            stack.callback(replica.stop)
            replica.start()
        for replica in started:
            replica.wait_healthy()
        yield started


def new_database(cluster: PostgresCluster) -> str:
    return create_database(cluster.url)

"""Two `serve` processes on one PostgreSQL database with the drift demo: one polls, the other
takes over within two poll intervals when the first is killed, the alert episode is posted
once across the hand-over, and 20 Approve clicks spread over both make one deploy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from emulator.server import serve_in_thread
from tests.conftest import Emulator
from tests.fake_slack import FakeSlack
from tests.postgres import create_database
from tests.test_slack_http import SIGNING_SECRET, Bot, wait_until

POLL_SECONDS = 2.0
APPROVERS = [f"UAPP{i}" for i in range(20)]
ALERTS = "CALERTS"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def replica(name: str, env: dict[str, str], logs: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    with (logs / f"{name}.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(port)],
            env={**env, "CHATOPS_REPLICA_ID": name},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _healthy(url), timeout=60)
            yield url, process
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def leads(url: str) -> bool:
    return "chatops_scheduler_leader 1.0" in httpx.get(f"{url}/metrics", timeout=5).text


def polls_made(url: str) -> bool:
    return 'chatops_poll_cycle_seconds_count{job="assays"}' in httpx.get(f"{url}/metrics").text


@pytest.fixture
def drift(start_emulator: Callable[..., Emulator]) -> Emulator:
    return start_emulator(seed_demo=True, deployment_startup_seconds=0)


def test_two_replicas_one_poller_hand_over_once_and_one_deploy(
    drift: Emulator, postgres_server_url: str, tmp_path: Path
) -> None:
    assert drift.demo is not None
    slack = FakeSlack()
    with ExitStack() as stack:
        slack_url = stack.enter_context(serve_in_thread(slack.app()))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CHATOPS_"))},
            "SLACK_BOT_TOKEN": "xoxb-replicas",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": f"{slack_url}/api/",
            "WALLAROO_API_URL": drift.api_url,
            "WALLAROO_TOKEN_URL": drift.token_url,
            "WALLAROO_CLIENT_SECRET": drift.config.client_secret,
            "DATABASE_URL": create_database(postgres_server_url),
            "CHATOPS_ADMINS": ",".join(["UADMIN", *APPROVERS]),
            "CHATOPS_POLL_SECONDS": str(POLL_SECONDS),
            "CHATOPS_CHANNEL_PACING_SECONDS": "0.05",
            "CHATOPS_DEPLOY_POLL_SECONDS": "0.1",
        }
        url_a, process_a = stack.enter_context(replica("replica-a", env, tmp_path))
        url_b, process_b = stack.enter_context(replica("replica-b", env, tmp_path))
        a, b = Bot(url_a, slack, slack_url), Bot(url_b, slack, slack_url)

        # Exactly one leads, and only it polls.
        wait_until(lambda: leads(url_a) or leads(url_b))
        (leader, leader_process), (follower, _) = (
            ((url_a, process_a), (url_b, process_b))
            if leads(url_a)
            else ((url_b, process_b), (url_a, process_a))
        )
        assert not leads(follower)

        # 20 concurrent Approve clicks, alternating between the replicas: one deploy.
        _, key = a.command("deploy housepricedrift housepricepipe replicas", "UADMIN")
        request_id = json.dumps(a.reply_to(key)).split("request *#")[1].split("*")[0]
        deploys = drift.calls_to("/v1/api/pipelines/deploy")
        bots = [a, b] * (len(APPROVERS) // 2)
        with ThreadPoolExecutor(max_workers=len(APPROVERS)) as pool:
            replies = list(
                pool.map(
                    lambda pair: json.dumps(
                        pair[0].reply_to(pair[0].click("approval_approve", request_id, pair[1])[1])
                    ),
                    zip(bots, APPROVERS, strict=True),
                )
            )
        assert sum("Approved request" in r for r in replies) == 1
        wait_until(lambda: drift.calls_to("/v1/api/pipelines/deploy") > deploys)
        time.sleep(1.0)
        assert drift.calls_to("/v1/api/pipelines/deploy") == deploys + 1

        # The alert episode opens once...
        _, key = a.command(f"subscribe assay {drift.demo['assay_id']} <#{ALERTS}|a>", "UADMIN")
        a.reply_to(key)
        wait_until(lambda: polls_made(leader))
        assert not polls_made(follower)
        drift.control("clock", {"advance_seconds": 86_400})

        def openings() -> list[dict]:
            return [
                c.body
                for c in slack.calls
                if c.path == "/api/chat.postMessage"
                and c.body.get("channel") == ALERTS
                and not c.body.get("thread_ts")
            ]

        wait_until(openings)
        # ...the leader dies without a word; the other takes over within two poll intervals...
        leader_process.send_signal(signal.SIGKILL)
        leader_process.wait(timeout=10)
        killed = time.monotonic()
        wait_until(lambda: leads(follower), timeout=4 * POLL_SECONDS)
        took_over = time.monotonic() - killed
        assert took_over <= 2 * POLL_SECONDS, f"hand-over took {took_over:.1f} s"

        # ...and goes on with the same episode: an edit, not a second message. (If the kill
        # fell between Slack taking the post and the leader recording it, the new leader
        # waits out the dead one's claim on the row, then finds the post in the history.)
        drift.control("clock", {"advance_seconds": 86_400})
        wait_until(
            lambda: any(
                "2 breaching" in json.dumps(c.body)
                for c in slack.calls
                if c.path == "/api/chat.update"
            ),
            timeout=45,
        )
        time.sleep(POLL_SECONDS)
        assert len(openings()) == 1

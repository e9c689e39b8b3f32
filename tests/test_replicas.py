"""Two `serve` processes on one PostgreSQL database with the drift demo: one polls, the other
takes over within two poll intervals of the killed one's last renewal, the alert episode is
posted once across the hand-over, and 20 Approve clicks spread over both make one deploy.

The hand-over is timed by the replicas' own clocks, from the lease row (the dead holder's last
renewal, the new holder's take), so how fast the test notices it does not count."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from emulator.server import serve_in_thread
from tests.helpers.emulators import Emulator
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.net import HTTP, free_port, healthy, wait_until
from tests.helpers.postgres import create_database
from tests.helpers.slack_bot import SIGNING_SECRET, Bot

POLL_SECONDS = 1.0
# The lease (1.5 poll intervals, renewed every half) bounds a hand-over at two intervals after
# the last renewal; this allows for a replica's renewal job running late on a loaded machine.
SCHEDULING_SLACK_SECONDS = 0.5
APPROVERS = [f"UAPP{i}" for i in range(20)]
ALERTS = "CALERTS"


@contextmanager
def replicas(
    names: list[str], env: dict[str, str], logs: Path
) -> Iterator[list[tuple[str, subprocess.Popen]]]:
    """`serve` processes, one per name (its replica id), started together; stopped on exit."""
    started: list[tuple[str, subprocess.Popen]] = []
    try:
        for name in names:
            port = free_port()
            with (logs / f"{name}.log").open("w") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "bot", "serve", "--port", str(port)],
                    env={**env, "CHATOPS_REPLICA_ID": name},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            started.append((f"http://127.0.0.1:{port}", process))
        for url, _ in started:
            wait_until(lambda url=url: healthy(url), timeout=60)
        yield started
    finally:
        for _, process in started:
            if process.poll() is None:
                process.terminate()
        for _, process in started:
            process.wait(timeout=20)


@dataclass(frozen=True)
class Lease:
    holder: str
    renewed_at: datetime
    expires_at: datetime


def poller_lease(database_url: str) -> Lease:
    """The poller lease as the database holds it now."""
    dsn = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(dsn.render_as_string(hide_password=False)) as connection:
        row = connection.execute(
            "SELECT holder, renewed_at, expires_at FROM scheduler_leases WHERE name = 'poller'"
        ).fetchone()
    assert row is not None, "nobody has taken the poller lease"
    return Lease(*row)


def leads(url: str) -> bool:
    return "chatops_scheduler_leader 1.0" in HTTP.get(f"{url}/metrics").text


def polls_made(url: str) -> bool:
    return poll_count(url) > 0


def poll_count(url: str) -> int:
    """How many assay polls the replica at `url` has finished."""
    return metric(url, 'chatops_poll_cycle_seconds_count{job="assays"}')


def sent(url: str, kind: str) -> int:
    """How many alert messages of `kind` (post, upload, update, thread) the replica sent."""
    return metric(url, f'chatops_alert_messages_total{{kind="{kind}"}}')


def metric(url: str, name: str) -> int:
    for line in HTTP.get(f"{url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.removeprefix(name + " ")))
    return 0


@pytest.fixture
def drift(start_emulator: Callable[..., Emulator]) -> Emulator:
    return start_emulator(seed_demo=True, deployment_startup_seconds=0)


def test_two_replicas_one_poller_hand_over_once_and_one_deploy(
    drift: Emulator, postgres_server_url: str, tmp_path: Path
) -> None:
    assert drift.demo is not None
    slack = FakeSlack()
    database_url = create_database(postgres_server_url)
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
            "DATABASE_URL": database_url,
            "CHATOPS_ADMINS": ",".join(["UADMIN", *APPROVERS]),
            "CHATOPS_POLL_SECONDS": str(POLL_SECONDS),
            "CHATOPS_CHANNEL_PACING_SECONDS": "0.05",
            "CHATOPS_DEPLOY_POLL_SECONDS": "0.1",
        }
        names = ["replica-a", "replica-b"]
        (url_a, process_a), (url_b, process_b) = stack.enter_context(replicas(names, env, tmp_path))
        a, b = Bot(url_a, slack, slack_url), Bot(url_b, slack, slack_url)

        # Exactly one leads, and only it polls.
        wait_until(lambda: leads(url_a) or leads(url_b))
        (leader, leader_process), (follower, _) = (
            ((url_a, process_a), (url_b, process_b))
            if leads(url_a)
            else ((url_b, process_b), (url_a, process_a))
        )
        assert not leads(follower)
        leader_name, follower_name = names if leader == url_a else reversed(names)
        assert poller_lease(database_url).holder == leader_name

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
        # The winning replica's rollout has ended once it says so in the request's thread
        # (the demo's deployments run at once); the others' clicks were all answered.
        wait_until(
            lambda: any(
                "is deployed" in json.dumps(body)
                for body in slack.api_calls("chat.postMessage")
                if body.get("thread_ts")
            )
        )
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
        # ...the leader records its messages as sent (the opening and its chart: its metrics
        # count them once the database has), then dies without a word. (A kill mid-delivery,
        # which makes the next leader wait out the dead one's claim and look in the channel's
        # history, is test_alerts.py's lost-answer test: here it would only add 15 s at random.)
        wait_until(lambda: sent(leader, "post") == sent(leader, "upload") == 1)
        # The other takes over within two poll intervals of the dead one's last renewal (a
        # lease lasts 1.5, and is asked for every half)...
        leader_process.send_signal(signal.SIGKILL)
        leader_process.wait(timeout=10)
        # Read at once: the lease the dead one renewed last has at least an interval to run.
        dead = poller_lease(database_url)
        assert dead.holder == leader_name, "the lease changed hands before the kill"
        taken = wait_until(
            lambda: (lease := poller_lease(database_url)).holder == follower_name and lease,
            timeout=10 * POLL_SECONDS,
        )
        assert taken.renewed_at >= dead.expires_at  # never while the dead one's lease held
        took_over = (taken.renewed_at - dead.renewed_at).total_seconds()
        bound = 2 * POLL_SECONDS + SCHEDULING_SLACK_SECONDS
        assert took_over <= bound, f"hand-over took {took_over:.2f} s after the last renewal"
        wait_until(lambda: leads(follower))

        # ...and goes on with the same episode: an edit, not a second message.
        drift.control("clock", {"advance_seconds": 86_400})
        wait_until(
            lambda: any(
                "2 breaching" in json.dumps(c.body)
                for c in slack.calls
                if c.path == "/api/chat.update"
            ),
            timeout=10 * POLL_SECONDS,
        )
        # Two more of the new leader's polls, each followed by its delivery: still one message.
        polls = poll_count(follower)
        wait_until(lambda: poll_count(follower) >= polls + 2, timeout=10 * POLL_SECONDS)
        assert len(openings()) == 1

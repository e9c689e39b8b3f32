"""A soak test: two `serve` replicas on one PostgreSQL database, the emulator (the drift demo)
and a fake Slack, under a bounded mixed load while faults are injected on a schedule; at the end
it checks what must hold whatever happened, prints a table and exits 1 on any violation.

    .venv/bin/python bench/soak.py [--minutes 10] [--seed 1] [--grace 60]

CI runs `--minutes 1 --grace 10`: the same faults in one minute, with the outbox's look-up grace
after a timed-out post (CHATOPS_POST_LOOKUP_GRACE_SECONDS) shortened so the run settles sooner.

Load: signed slash commands (reads, `workspace create`, `deploy` / `undeploy` requests), Approve
and Reject clicks (and the reject dialog) by a second user, `subscribe` / `unsubscribe`, and the
emulator's clock moved a day every few seconds so that assay results arrive. Faults, each minute:
Wallaroo latency and 5xx bursts (deploys answered 504 after they took effect), Slack 429s and a
12 s answer to an alert post, one replica killed with SIGKILL and started again; PostgreSQL is
restarted once. Checks: bench/soak_checks.py."""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.soak_checks import (
    UNAUDITABLE,
    check_alerts,
    check_audit,
    check_audit_verify,
    check_replies,
    check_rollouts,
    rows,
)
from bench.soak_load import Driver
from bench.soak_servers import (
    PostgresCluster,
    Replica,
    emulator,
    fake_slack,
    new_database,
    replicas,
)
from bench.soak_traffic import ALERTS, Traffic
from handlers.alerting.outbox_send import UNKNOWN_FATE_GRACE_SECONDS
from tests.helpers.emulators import Emulator

SECRET = "soak-signing-secret-5e2a"
REQUESTERS = ["UREQ1", "UREQ2", "UREQ3"]
APPROVERS = ["UAPP1", "UAPP2", "UAPP3"]
IN_FLIGHT_OPS = 4
CALL_GRACE_SECONDS = 30.0  # CHATOPS_CALL_GRACE_SECONDS, left at its default


def bot_env(emu: Emulator, slack_url: str, database_url: str, grace: float) -> dict[str, str]:
    import os

    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CHATOPS_"))}
    return {
        **keep,
        "SLACK_BOT_TOKEN": "xoxb-soak",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"{slack_url}/api/",
        "SLACK_TEAM_IDS": "T1",
        "SLACK_APP_ID": "A1",
        "WALLAROO_API_URL": emu.api_url,
        "WALLAROO_TOKEN_URL": emu.token_url,
        "WALLAROO_CLIENT_SECRET": emu.config.client_secret,
        "DATABASE_URL": database_url,
        "CHATOPS_ADMINS": ",".join(REQUESTERS + APPROVERS),
        "CHATOPS_APPROVAL_CHANNEL": "CAPPROVALS",
        "CHATOPS_AUDIT_KEY": "soak-audit-key-not-secret",
        "CHATOPS_POLL_SECONDS": "1",
        "CHATOPS_CHANNEL_PACING_SECONDS": "0.05",
        "CHATOPS_DEPLOY_POLL_SECONDS": "0.1",
        "CHATOPS_LOG_FORMAT": "text",
        "CHATOPS_POST_LOOKUP_GRACE_SECONDS": str(grace),
    }


class Faults:
    """The schedule: within each minute, a Wallaroo burst, Slack 429s and a slow post, a
    replica killed and restarted; PostgreSQL restarted once, past the run's middle."""

    def __init__(self, emu: Emulator, slack, slow, reps: list[Replica], driver, cluster) -> None:
        self.emu, self.slack, self.slow, self.reps = emu, slack, slow, reps
        self.driver, self.cluster = driver, cluster
        self.injected: Counter[str] = Counter()
        self.down: set[str] = set()
        self.db_restarting = False
        self.db_restarted = False
        self.done_at: dict[tuple[int, str], bool] = {}
        self.threads: list[threading.Thread] = []

    def available(self) -> list[Replica]:
        return [r for r in self.reps if r.name not in self.down and r.alive]

    def _once(self, minute: int, name: str) -> bool:
        if self.done_at.get((minute, name)):
            return False
        self.done_at[(minute, name)] = True
        return True

    def tick(self, elapsed: float, duration: float) -> None:
        minute, second = int(elapsed // 60), elapsed % 60
        if second >= 6 and self._once(minute, "wallaroo"):
            self._wallaroo_burst()
        if second >= 16 and self._once(minute, "wallaroo-clear"):
            self.emu.http.delete(f"{self.emu.url}/emulator/faults")
        if second >= 8 and self._once(minute, "slack"):
            self.slack.rate_limited["chat.postMessage"] = 3
            self.slack.rate_limited["chat.update"] = 2
            self.slow.slow_posts += 1
            self.injected["slack 429s"] += 5
            self.injected["slack slow answer (12 s)"] += 1
        if second >= 28 and self._once(minute, "kill"):
            self._background(self._kill_and_restart, self.reps[minute % len(self.reps)])
        if second >= 44 and elapsed >= duration / 2 - 30 and not self.db_restarted:
            self.db_restarted = True
            self._background(self._restart_db)

    def _wallaroo_burst(self) -> None:
        for fault in (
            {"path_prefix": "/v1/api/", "latency_ms": 400},
            {"path_prefix": "/v1/api/pipelines/deploy", "error_rate": 0.5, "status": 504,
             "after_effect": True},
            {"path_prefix": "/v1/api/pipelines/undeploy", "error_rate": 0.5, "status": 502,
             "after_effect": True},
            {"path_prefix": "/v1/api/assays", "error_rate": 0.5, "status": 503},
            {"path_prefix": "/v1/api/status", "error_rate": 0.3, "status": 500},
        ):  # fmt: skip
            self.emu.control("faults", fault)
        self.injected["wallaroo latency + 5xx burst (10 s)"] += 1

    def _background(self, work, *args) -> None:
        thread = threading.Thread(target=work, args=args, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _kill_and_restart(self, replica: Replica) -> None:
        # New requests go elsewhere and those under way get their answers first: a request
        # killed mid-answer is lost by any design, and Slack would show its user an error.
        self.down.add(replica.name)
        deadline = time.monotonic() + 10
        while self.driver.in_flight.get(replica.name, 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        replica.kill()
        self.injected["replica SIGKILL + restart"] += 1
        time.sleep(3)
        replica.start()
        replica.wait_healthy()
        self.down.discard(replica.name)

    def _restart_db(self) -> None:
        self.db_restarting = True
        try:
            self.cluster.restart()
            self.injected["postgresql restart"] += 1
        finally:
            time.sleep(2)  # commands a moment after still meet connections cut by it
            self.db_restarting = False

    def clear(self) -> None:
        for thread in self.threads:
            thread.join(timeout=90)
        self.emu.http.delete(f"{self.emu.url}/emulator/faults")
        self.slack.rate_limited.clear()
        self.slow.slow_posts = 0


def settle(database_url: str, grace: float) -> None:
    """Wait for rollouts to end and the outbox to empty (bounded: what is left is reported).
    A post timed out by the slow answer is looked for again only after the outbox's grace."""
    # A request left `calling` by a kill is reconciled after the call grace (30 s, the default).
    deadline = time.monotonic() + max(grace, CALL_GRACE_SECONDS) + 30
    while time.monotonic() < deadline:
        busy = rows(
            database_url,
            "SELECT (SELECT count(*) FROM approval_requests WHERE state IN "
            "('approved', 'calling', 'following')) + (SELECT count(*) FROM outbox_messages "
            "WHERE state = 'pending')",
        )[0][0]
        if not busy:
            return
        time.sleep(0.5)


def run(minutes: float, seed: int, grace: float) -> int:
    started, rng = time.monotonic(), random.Random(seed)
    phases: dict[str, float] = {}
    duration = minutes * 60
    tmp = Path(tempfile.mkdtemp(prefix="chatops-soak-"))
    cluster = PostgresCluster()
    try:
        database_url = new_database(cluster)
        with emulator(tmp) as (emu, recorder), fake_slack(ALERTS) as (slack, slow, slack_url):
            env = bot_env(emu, slack_url, database_url, grace)
            before = emu.http.get(f"{emu.url}/emulator/requests").json()["counts"]
            with replicas(env, tmp) as reps:
                faults: Faults
                driver = Driver(
                    slack, slack_url, SECRET, lambda: faults.available(),
                    lambda: faults.db_restarting, rng,
                )  # fmt: skip
                faults = Faults(emu, slack, slow, reps, driver, cluster)
                traffic = Traffic(driver, emu, rng, REQUESTERS, APPROVERS, seed)
                traffic.prepare()
                phases["ready"] = time.monotonic() - started
                load(traffic, faults, emu, started, duration, rng)
                phases["load ended"] = time.monotonic() - started
                faults.clear()
                for replica in reps:
                    if not replica.alive:
                        replica.start()
                        replica.wait_healthy()
                settle(database_url, grace)
                counts = emu.http.get(f"{emu.url}/emulator/requests").json()["counts"]
                counts = {path: n - before.get(path, 0) for path, n in counts.items()}
                phases["settled"] = time.monotonic() - started
                sent = list(driver.ledger.sent)
                violations = check_audit(database_url, sent, slack)
                violations += check_rollouts(database_url, recorder.calls, counts)
                alert_problems, episodes = check_alerts(database_url, slack)
                violations += alert_problems + check_replies(slack, sent)
                verify_problems, verify_said = check_audit_verify(env)
                violations += verify_problems
        print_table(faults, traffic, sent, slack, episodes, violations, verify_said, started)
        print("phases: " + ", ".join(f"{name} at {t:.0f} s" for name, t in phases.items()))
        print(f"replica logs: {tmp}")
        return 1 if violations else 0
    finally:
        cluster.stop()


def load(traffic: Traffic, faults: Faults, emu: Emulator, started, duration, rng) -> None:
    pending: list[Future] = []
    last_clock = 0.0
    with ThreadPoolExecutor(max_workers=IN_FLIGHT_OPS) as pool:
        # The last seconds are left for the answers, the outbox and the checks.
        while (elapsed := time.monotonic() - started) < max(duration - 15, 30):
            faults.tick(elapsed, duration)
            if elapsed - last_clock >= 3:  # a day of assay results every 3 s
                last_clock = elapsed
                emu.control("clock", {"advance_seconds": 86_400})
                traffic.clock_moves += 1
            pending = [f for f in pending if not f.done()]
            if len(pending) < IN_FLIGHT_OPS:
                pending.append(pool.submit(traffic.one, rng.random()))
            time.sleep(0.25)
        for future in pending:
            future.result()


def print_table(faults, traffic, sent, slack, episodes, violations, verify_said, started) -> None:
    by_kind = Counter(s.kind for s in sent)
    undelivered = sum(1 for s in sent if s.status is None)
    refused = sum(1 for s in sent if s.status == 503 and s.during_db_restart)
    unaudited = sum(1 for c in slack.calls if UNAUDITABLE in json.dumps(c.body))
    alert_posts = sum(1 for b in slack.api_calls("chat.postMessage") if b.get("channel") == ALERTS)
    table = [("faults injected", "")]
    table += [(f"  {name}", n) for name, n in sorted(faults.injected.items())]
    table += [
        ("commands sent", by_kind["command"]),
        ("  of them deploy/undeploy requests", traffic.requests),
        ("  workspace creates", traffic.creates),
        ("  subscribe/unsubscribe", traffic.subscriptions),
        ("clicks (approve)", by_kind["approve"]),
        ("clicks (reject) + reject dialogs", f"{by_kind['reject']} + {by_kind['dialog']}"),
        ("not delivered (replica down)", undelivered),
        ("refused with 503 while PostgreSQL restarted", refused),
        ("refused, audit log unwritable (restart)", unaudited),
        ("emulator clock moves (1 day)", traffic.clock_moves),
        ("alert episodes", episodes),
        ("alert channel posts", alert_posts),
        ("violations", len(violations)),
    ]
    table += [(f"  {kind}", n) for kind, n in sorted(Counter(v.kind for v in violations).items())]
    table += [("audit verify", verify_said.splitlines()[0] if verify_said else "")]
    table += [("wall time", f"{time.monotonic() - started:.0f} s")]
    width = max(len(name) for name, _ in table)
    for name, value in table:
        print(f"{name:<{width}}  {value}")
    for violation in violations[:60]:
        print(f"VIOLATION {violation.kind}: {violation.detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs")
    parser.add_argument("--seed", type=int, default=1, help="the load's random seed")
    parser.add_argument(
        "--grace",
        type=float,
        default=UNKNOWN_FATE_GRACE_SECONDS,
        help="seconds before a timed-out Slack post is looked for (the bot's default: 60)",
    )
    args = parser.parse_args()
    sys.exit(run(args.minutes, args.seed, args.grace))


if __name__ == "__main__":
    main()

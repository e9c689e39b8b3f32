"""The soak test's end checks, from the emulator's request counts, the fake Slack's record and
the database: one audit row per command and click, one Wallaroo call per approved request and
none for any other, every alert message posted once and nothing pending left, every request
answered, and `audit verify` passing. Each failure is a `Violation` of a named kind."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from bench.soak_load import Sent
from bench.soak_servers import ROLLOUT_PATHS
from bench.soak_traffic import READS
from tests.helpers.fake_slack import FakeSlack

# What a finished command's row says. A write also has an intent row written before it changes
# anything (storage/audit.py: outcome "intent"), completed by its outcome row: at most one.
FINAL_OUTCOMES = {"ok", "refused", "invalid", "error"}
IN_FLIGHT = {"approved", "calling", "following"}


@dataclass(frozen=True)
class Violation:
    kind: str
    detail: str


def rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as connection:
        return list(connection.execute(sql).fetchall())


UNAUDITABLE = "The audit log cannot be written, so nothing was changed"


def check_audit(database_url: str, sent: list[Sent], slack: FakeSlack) -> list[Violation]:
    """One row per command and click; none only, while PostgreSQL was restarting, for a write
    refused because its audit row could not be stored (failing closed, as it must) or a read
    that answered all the same (design.md: reads answer while the log is down)."""
    refused = {
        c.path.removeprefix("/respond/")
        for c in slack.calls
        if c.path.startswith("/respond/") and UNAUDITABLE in json.dumps(c.body)
    }
    found: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for channel, user, outcome in rows(
        database_url, "SELECT channel_id, slack_user_id, outcome FROM audit_entries"
    ):
        found[(channel, user)][outcome] += 1
    problems = []
    for s in sent:
        # A Reject click opens the dialog and decides nothing; the dialog's row has no channel
        # (a view submission carries none), so both are checked by their answers only.
        if s.status != 200 or s.kind in ("reject", "dialog"):
            continue
        outcomes = found.get((s.channel, s.user), Counter())
        final = sum(n for o, n in outcomes.items() if o in FINAL_OUTCOMES)
        other = sum(n for o, n in outcomes.items() if o not in FINAL_OUTCOMES)
        if not outcomes and s.key in refused:
            # Refused because its row could not be stored: failing closed. Not tied to the
            # restart flag: a command sent just before the flag is set meets it too (the
            # table counts these).
            continue
        if not outcomes and s.during_db_restart and s.kind == "command" and s.text in READS:
            # By design a read answers while the log cannot be written (its row's failure
            # is logged): nothing changed, and refusing to answer would help no one.
            continue
        if final != 1 or other > 1:
            when = " (during the PostgreSQL restart)" if s.during_db_restart else ""
            kind = "audit rows not one"
            if final == 0:
                kind = "audit outcome missing after intent" if other else "audit row missing"
            detail = f"{s.kind} {s.text!r} by {s.user} on {s.replica}: {dict(outcomes)}{when}"
            problems.append(Violation(kind, detail))
    return problems


def check_rollouts(
    database_url: str, recorded: Counter[tuple[str, int]], counts: dict[str, int]
) -> list[Violation]:
    # Per pipeline and call: at most one call per request that claimed the right to send it
    # (`call_sent_at` is set just before the call, so a process that died, or lost its
    # database, in between sent none: reconciled, it fails saying nothing happened), and at
    # least one per request that succeeded.
    claimed: Counter[tuple[str, int]] = Counter()
    succeeded: Counter[tuple[str, int]] = Counter()
    problems = []
    for request_id, action, pipeline_id, state, call_sent in rows(
        database_url,
        "SELECT id, action, pipeline_id, state, call_sent_at FROM approval_requests",
    ):
        key = (f"/v1/api/pipelines/{action}", pipeline_id)
        if call_sent is not None:
            claimed[key] += 1
        if state == "succeeded":
            succeeded[key] += 1
        if state in IN_FLIGHT:
            problems.append(Violation("rollout unfinished", f"request #{request_id}: {state}"))
    for key in set(claimed) | set(recorded):
        if not succeeded[key] <= recorded[key] <= claimed[key]:
            path, pipeline_id = key
            detail = (
                f"{path.rsplit('/', 1)[1]} of pipeline {pipeline_id}: {recorded[key]} calls "
                f"for {claimed[key]} request(s) that claimed one, {succeeded[key]} succeeded"
            )
            problems.append(Violation("wallaroo calls not one per approval", detail))
    for path in ROLLOUT_PATHS:
        # The emulator counts refused calls too: it may count more, never fewer.
        total = sum(n for (p, _), n in recorded.items() if p == path)
        if counts.get(path, 0) < total:
            detail = f"{path}: the emulator counted {counts.get(path, 0)}, the recorder {total}"
            problems.append(Violation("call counts disagree", detail))
    return problems


def posted_keys(slack: FakeSlack) -> Counter[str]:
    keys: Counter[str] = Counter()
    for body in slack.api_calls("chat.postMessage"):
        metadata = body.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata or "null")
        key = ((metadata or {}).get("event_payload") or {}).get("key")
        if key:
            keys[key] += 1
    return keys


def check_alerts(database_url: str, slack: FakeSlack) -> tuple[list[Violation], int]:
    """The violations, and how many alert episodes there were."""
    keys, problems = posted_keys(slack), []
    for row_id, kind, state, episode_id in rows(
        database_url, "SELECT id, kind, state, episode_id FROM outbox_messages"
    ):
        n = keys.get(f"outbox-{row_id}", 0)
        what = f"outbox #{row_id} ({kind}, episode {episode_id})"
        if (kind in ("post", "thread") and state == "sent" and n != 1) or (
            kind in ("post", "thread") and n > 1
        ):
            problems.append(Violation("alert not posted exactly once", f"{what}: posted {n}x"))
        if state == "pending":
            problems.append(Violation("alert still pending at the end", what))
        if state == "failed":
            problems.append(Violation("alert dropped (failed)", what))
    episodes = rows(database_url, "SELECT id, state, message_ts FROM alert_episodes")
    for episode_id, state, message_ts in episodes:
        if state == "open" and message_ts is None:
            problems.append(Violation("episode never posted", f"episode {episode_id}"))
    return problems, len(episodes)


def check_replies(slack: FakeSlack, sent: list[Sent]) -> list[Violation]:
    answered = {c.path.removeprefix("/respond/") for c in slack.calls if "/respond/" in c.path}
    dialogs = {b.get("trigger_id") for b in slack.api_calls("views.open")}
    ephemerals = Counter(b.get("user") for b in slack.api_calls("chat.postEphemeral"))
    dialogs_by_user = Counter(s.user for s in sent if s.kind == "dialog" and s.status == 200)
    problems = []
    for s in sent:
        what = f"{s.kind} {s.text!r} by {s.user} on {s.replica}"
        what += " (during the PostgreSQL restart)" if s.during_db_restart else ""
        if s.status is None:
            continue  # never reached a replica (it was down): Slack would retry it
        if s.status == 503 and s.during_db_restart:
            continue  # refused while the database was down: fail closed, and Slack says so
        if s.status != 200:
            problems.append(Violation(f"HTTP {s.status} to a signed request", what))
        elif s.kind == "reject" and f"trigger-{s.key}" not in dialogs:
            problems.append(Violation("reply lost", f"{what}: no reason dialog opened"))
        elif s.kind in ("command", "approve") and s.key not in answered:
            problems.append(Violation("reply lost", what))
    for user, n in dialogs_by_user.items():
        if ephemerals.get(user, 0) < n:
            detail = f"{user}: {n} reject dialogs, {ephemerals.get(user, 0)} answers"
            problems.append(Violation("reply lost", detail))
    return problems


def check_audit_verify(env: dict[str, str]) -> tuple[list[Violation], str]:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        return [Violation("audit verify failed", said.splitlines()[-1] if said else "")], said
    return [], said

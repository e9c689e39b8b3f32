"""The soak test's load: signed slash commands, Approve / Reject clicks and the reject dialog,
sent as Slack sends them into a live replica's /slack/events, each written in a ledger that the
end checks read. Every request carries its own channel id, trigger id and response URL, so its
audit row and its answer can be told apart from every other's."""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bench.soak_servers import Replica
from tests.helpers.fake_slack import FakeSlack

TEAM, APP = "T1", "A1"
REQUEST_ID = re.compile(r"request \*?#(\d+)")
REPLY_SECONDS = 40.0  # a reply delayed by a Wallaroo fault or a restart still arrives


@dataclass
class Sent:
    """One request into /slack/events and what answers it."""

    kind: str  # command | approve | reject | dialog
    text: str  # the command, or the request id clicked
    user: str
    channel: str  # unique: the audit row's channel_id
    key: str  # the response URL's key (or the trigger id, for a reject click)
    replica: str
    at: float
    status: int | None = None  # the HTTP answer; None when the replica could not be reached
    during_db_restart: bool = False


@dataclass
class Ledger:
    sent: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _numbers: itertools.count = field(default_factory=itertools.count)

    def number(self) -> int:
        return next(self._numbers)

    def add(self, sent: Sent) -> None:
        with self.lock:
            self.sent.append(sent)


class Driver:
    """Sends the load to the replicas that are up (`available()` names them)."""

    def __init__(
        self,
        slack: FakeSlack,
        slack_url: str,
        secret: str,
        available: Callable[[], list[Replica]],
        db_restarting: Callable[[], bool],
        rng: random.Random,
    ) -> None:
        self.slack, self.slack_url, self.secret = slack, slack_url, secret
        self.available, self.db_restarting, self.rng = available, db_restarting, rng
        self.ledger = Ledger()
        self.http = httpx.Client(timeout=10)
        self.in_flight: dict[str, int] = {}
        self._lock = threading.Lock()

    def _post(self, sent: Sent, body: str, content_type: str) -> httpx.Response | None:
        choices = self.available()
        if not choices:
            return None
        replica = self.rng.choice(choices)
        sent.replica, sent.during_db_restart = replica.name, self.db_restarting()
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(self.secret).generate_signature(
            timestamp=timestamp, body=body
        )
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }
        with self._lock:
            self.in_flight[replica.name] = self.in_flight.get(replica.name, 0) + 1
        try:
            answer = self.http.post(f"{replica.url}/slack/events", content=body, headers=headers)
            sent.status = answer.status_code
            return answer
        except httpx.HTTPError:
            return None  # not delivered: the ledger keeps it with no status
        finally:
            self.ledger.add(sent)
            if sent.status != 200:
                self.done(sent)

    def done(self, sent: Sent) -> None:
        """`sent` is answered (or given up on): its replica may be killed now."""
        with self._lock:
            self.in_flight[sent.replica] -= 1

    def _new(self, kind: str, text: str, user: str) -> Sent:
        n = self.ledger.number()
        return Sent(kind, text, user, f"CSOAK{n:05d}", uuid.uuid4().hex, "", time.monotonic())

    def command(self, text: str, user: str) -> Sent:
        sent = self._new("command", text, user)
        body = urlencode(
            {
                "command": "/wallaroo",
                "text": text,
                "user_id": user,
                "user_name": user.lower(),
                "team_id": TEAM,
                "channel_id": sent.channel,
                "channel_name": sent.channel.lower(),
                "response_url": f"{self.slack_url}/respond/{sent.key}",
                "trigger_id": f"trigger-{sent.key}",
                "api_app_id": APP,
            }
        )
        self._post(sent, body, "application/x-www-form-urlencoded")
        return sent

    def click(self, approve: bool, request_id: int, user: str) -> Sent:
        action = "approval_approve" if approve else "approval_reject"
        sent = self._new("approve" if approve else "reject", str(request_id), user)
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "team": {"id": TEAM, "domain": "soak"},
            "channel": {"id": sent.channel, "name": sent.channel.lower()},
            "api_app_id": APP,
            "trigger_id": f"trigger-{sent.key}",
            "response_url": f"{self.slack_url}/respond/{sent.key}",
            "container": {"type": "message", "channel_id": sent.channel, "message_ts": "1.0"},
            "actions": [
                {"type": "button", "action_id": action, "block_id": "b", "value": str(request_id)}
            ],
        }
        self._post(sent, urlencode({"payload": json.dumps(payload)}), _FORM)
        return sent

    def reject_dialog(self, request_id: int, user: str, reason: str) -> Sent:
        sent = self._new("dialog", str(request_id), user)
        view = {
            "id": f"V{sent.key[:8]}",
            "type": "modal",
            "callback_id": "approval_reject_reason",
            "private_metadata": str(request_id),
            "state": {"values": {"reason": {"reason_input": {"value": reason}}}},
        }
        payload = {
            "type": "view_submission",
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "team": {"id": TEAM, "domain": "soak"},
            "api_app_id": APP,
            "trigger_id": f"trigger-{sent.key}",
            "view": view,
        }
        self._post(sent, urlencode({"payload": json.dumps(payload)}), _FORM)
        return sent

    # --- waiting for answers ------------------------------------------------------------

    def reply(self, sent: Sent, timeout: float = REPLY_SECONDS) -> str | None:
        """The text of the answer to `sent`'s response URL, or None when none came in time."""
        if sent.status != 200:
            return None
        found = self.slack.wait_for(f"/respond/{sent.key}", 1, timeout)
        self.done(sent)
        return json.dumps(found[0].body) if found else None

    def dialog_opened(self, sent: Sent, timeout: float = REPLY_SECONDS) -> bool:
        return self._until(sent, timeout, lambda: any(
            b.get("trigger_id") == f"trigger-{sent.key}" for b in self._views()
        ))  # fmt: skip

    def dialog_answered(self, sent: Sent, before: int, timeout: float = REPLY_SECONDS) -> bool:
        """Whether the dialog's submitter got an answer (an ephemeral message) beyond `before`."""
        return self._until(sent, timeout, lambda: self.ephemerals(sent.user) > before)

    def ephemerals(self, user: str) -> int:
        return sum(1 for b in self.slack.api_calls("chat.postEphemeral") if b.get("user") == user)

    def _until(self, sent: Sent, timeout: float, predicate: Callable[[], bool]) -> bool:
        if sent.status != 200:
            return False
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if predicate():
                    return True
                time.sleep(0.1)
            return False
        finally:
            self.done(sent)

    def _views(self) -> list[dict]:
        return self.slack.api_calls("views.open")


_FORM = "application/x-www-form-urlencoded"


def request_id_in(reply: str | None) -> int | None:
    match = REQUEST_ID.search(reply or "")
    return int(match.group(1)) if match else None

"""What the approval tests share: the deployments' start-up time, the roles (an admin and
twenty approvers), and asking, clicking and reading the bot's thread replies over signed HTTP
and the fake Slack."""

from __future__ import annotations

import json
import re
import time

from tests.helpers.fake_slack import FakeSlack
from tests.helpers.slack_bot import Bot

STARTUP_SECONDS = 60.0
APPROVERS = [f"UAPP{i}" for i in range(20)]
ROLES = {"chatops_admins": ",".join(["UADMIN", *APPROVERS])}


def ask(bot: Bot, text: str, user: str = "UADMIN") -> str:
    response, key = bot.command(text, user)
    assert response.status_code == 200
    return json.dumps(bot.reply_to(key))


def request_id_in(reply: str) -> str:
    found = re.search(r"request \*#(\d+)\*", reply)
    assert found, reply
    return found.group(1)


def click(bot: Bot, action: str, request_id: str, user: str) -> str:
    response, key = bot.click(action, request_id, user)
    assert response.status_code == 200
    return json.dumps(bot.reply_to(key))


def thread_replies(slack: FakeSlack, count: int = 1, timeout: float = 15.0) -> list[dict]:
    """The bot's replies in threads, once there are `count` of them (or time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [body for body in slack.api_calls("chat.postMessage") if body.get("thread_ts")]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)

"""A click on an `alert_` button this bot does not make (a message posted by an older or
newer version of it, still in the channel): refused with a line saying so, audited as an
invalid click, and nothing written before it (no intent row left without its outcome), on
both API modes, over the bot's signed HTTP app and the fake Slack."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.alert_flows import FAST, last_edit
from tests.helpers.alert_flows import drift as drift
from tests.helpers.console_scripts import clicks
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import running_bot
from tests.test_alerts import episode_of, open_alert

api_mode = both_api_modes


def test_an_unknown_alert_button_is_refused_before_any_intent_is_written(
    drift: Emulator, tmp_path: Path
) -> None:
    with running_bot(drift, tmp_path, **FAST) as bot:
        episode = episode_of(open_alert(drift, bot))
        answer = json.dumps(bot.reply_to(bot.click("alert_escalate", episode, "UADMIN")[1]))
        assert "`alert_escalate`" in answer and "nothing was done" in answer
        assert "Acknowledge" in answer  # what would be right: the buttons there are
        # The episode is as it was: its own buttons still work.
        ack = json.dumps(bot.reply_to(bot.click("alert_ack", episode, "UADMIN")[1]))
        assert "no more reminders" in ack
        wait_until(lambda: "Acknowledged by" in last_edit(bot.slack))
    assert clicks(tmp_path, "[button]") == [
        ("UADMIN", f"[button] alert_escalate episode {episode}", "invalid"),
        ("UADMIN", f"[button] acknowledge episode {episode}", "intent"),
        ("UADMIN", f"[button] acknowledge episode {episode}", "ok"),
    ]

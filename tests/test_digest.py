"""Daily digests end to end: `digest #channel HH:MM` set, listed and turned off over Slack's
HTTP interface; sent once when due by the bot's own clock (moved by the test), not again on
the next poll, after a restart, nor by a second replica on the same PostgreSQL; `digest now`
showing the channel's deployments, assays, episodes and pending approvals, names escaped."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.demo import serve_console
from bot.settings import Settings
from emulator.seed import DAY_MS
from handlers.alerting.digest import due_day, send_due_digests
from storage.alerts import AlertEpisode, EpisodeKind
from storage.digests import Digest
from storage.outbox import pending_messages
from storage.watches import AssaySubscription, DeploymentWatch
from tests.helpers.clock import MovableClock
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.net import wait_until
from tests.helpers.postgres import create_database
from tests.helpers.slack_bot import Bot, running_bot

ALERTS = "CALERTS"
CHANNEL = f"<#{ALERTS}|ml-alerts>"
FAST = {"chatops_poll_seconds": 0.2, "chatops_channel_pacing_seconds": 0.05}
HOUR = 3600

api_mode = both_api_modes


@pytest.fixture
def drift(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """A drift demo of its own (its deployment Running from the start): tests move its clock."""
    return start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


def say(bot: Bot, text: str, user: str = "UADMIN") -> str:
    response, key = bot.command(text, user)
    assert response.status_code == 200
    return json.dumps(bot.reply_to(key), ensure_ascii=False)


def digests_posted(*slacks: FakeSlack) -> list[dict]:
    return [
        body
        for slack in slacks
        for body in slack.api_calls("chat.postMessage")
        if body.get("channel") == ALERTS and "Daily digest" in json.dumps(body)
    ]


def in_an_hour(clock: MovableClock) -> str:
    """HH:MM (UTC) a little under an hour from the clock's now: not due yet, due after 1 h."""
    return f"{clock() + timedelta(minutes=59):%H:%M}"


def follow_the_demo(bot: Bot, drift: Emulator) -> None:
    assert drift.demo is not None
    assert "Watching" in say(bot, f"watch housepricedrift housepricepipe {CHANNEL}")
    assert "will go to" in say(bot, f"subscribe assay {drift.demo['assay_id']} {CHANNEL}")


def test_set_list_move_and_turn_off(drift: Emulator, tmp_path: Path) -> None:
    with running_bot(drift, tmp_path, **FAST) as bot:
        assert "No channel has a daily digest" in say(bot, "digest")
        answer = say(bot, f"digest {CHANNEL} 09:00")
        assert f"<#{ALERTS}> will get a daily digest at 09:00 UTC" in answer
        listed = say(bot, "digest")
        assert f"<#{ALERTS}> at *09:00* UTC" in listed and "set by <@UADMIN>" in listed
        assert "next 20" in listed  # when the next one goes out
        assert "<#CALERTS> at *09:00*" in say(bot, "digests", "UVIEWER")  # a read: viewers too

        assert "now gets a daily digest at 07:30" in say(bot, f"digest {CHANNEL} 7:30")
        assert listed.count("CALERTS") == say(bot, "digest").count("CALERTS")  # still one
        assert "*07:30*" in say(bot, "digest")

        assert "No more daily digest" in say(bot, f"digest off {CHANNEL}")
        assert "No channel has a daily digest" in say(bot, "digest")
        assert "has no digest" in say(bot, f"digest off {CHANNEL}")
        audit = say(bot, "audit 20")
        assert "`digest off &lt;#CALERTS|ml-alerts&gt;`  ·  ok" in audit


def test_bad_input_is_refused_with_what_would_be_right(drift: Emulator, tmp_path: Path) -> None:
    with running_bot(drift, tmp_path, **FAST) as bot:
        for bad in ("25:00", "9h", "12:60", "noon"):
            answer = say(bot, f"digest {CHANNEL} {bad}")
            assert f"`{bad}` is not a time of day" in answer and "HH:MM" in answer
        assert "needs a channel and a time" in say(bot, f"digest {CHANNEL}")
        assert "is not a channel" in say(bot, "digest 09:00")  # the time alone
        assert "needs a channel" in say(bot, "digest off")
        assert "No channel has a daily digest" in say(bot, "digest")  # nothing was stored

        say(bot, "digest #ml-alerts 09:00")  # a #name, as the console gives it
        answer = say(bot, "digest off #ml-alert")
        assert "#ml-alert has no digest" in answer and "Did you mean #ml-alerts?" in answer

        refusal = say(bot, f"digest {CHANNEL} 09:00", "UVIEWER")
        assert "needs the *operator* role; you are *viewer*" in refusal
        refusal = say(bot, "digest off #ml-alerts", "UVIEWER")
        assert "needs the *operator* role" in refusal
        assert "#ml-alerts at *09:00*" in say(bot, "digests", "UVIEWER")  # still there


def test_sent_once_when_due_not_again_on_the_next_poll_nor_after_a_restart(
    drift: Emulator, tmp_path: Path
) -> None:
    clock = MovableClock()
    with running_bot(drift, tmp_path, clock=clock, **FAST) as bot:
        follow_the_demo(bot, drift)
        assert "will get a daily digest" in say(bot, f"digest {CHANNEL} {in_an_hour(clock)}")
        bot.poll_once()
        assert digests_posted(bot.slack) == []  # not due yet

        clock.advance(HOUR)
        bot.poll_once()
        (sent,) = digests_posted(bot.slack)
        text = json.dumps(sent, ensure_ascii=False)
        assert "housepricepipe" in text and "example assay" in text and "latest" in text
        bot.poll_once()  # due no longer: sent for today
        assert len(digests_posted(bot.slack)) == 1

    # A new bot on the same database and clock: today's was sent, tomorrow's comes tomorrow.
    with running_bot(drift, tmp_path, clock=clock, **FAST) as bot:
        bot.poll_once()
        assert digests_posted(bot.slack) == []
        clock.advance(24 * HOUR)
        bot.poll_once()
        assert len(digests_posted(bot.slack)) == 1
        bot.poll_once()
        assert len(digests_posted(bot.slack)) == 1


def test_two_replicas_on_one_database_send_it_once(
    drift: Emulator, tmp_path: Path, postgres_server_url: str
) -> None:
    """Both replicas stage at once (as two pollers would if the lease ever failed them): the
    compare-and-set on the day lets one through; the leader delivers it. Both API modes, on
    PostgreSQL (where two replicas share a database)."""
    clock = MovableClock()
    shared = {**FAST, "database_url": create_database(postgres_server_url)}
    with (
        running_bot(drift, tmp_path / "a", clock=clock, **shared) as first,
        running_bot(drift, tmp_path / "b", clock=clock, **shared) as second,
    ):
        follow_the_demo(first, drift)
        say(first, f"digest {CHANNEL} {in_an_hour(clock)}")
        clock.advance(HOUR)
        with ThreadPoolExecutor(max_workers=2) as pool:
            staged = list(
                pool.map(
                    lambda bot: bot.run(lambda: send_due_digests(bot.services)), [first, second]
                )
            )
        assert sorted(staged) == [0, 1]
        wait_until(lambda: digests_posted(first.slack, second.slack))
        for bot in (first, second):  # whichever leads, nothing more is staged or sent
            bot.run(bot.poller.send_digests)
        assert len(digests_posted(first.slack, second.slack)) == 1

        async def pending_digests() -> list[str]:
            async with first.services.sessions() as session:
                rows = await pending_messages(session, ALERTS)
            return [r.body for r in rows if "Daily digest" in r.body]

        assert first.run(pending_digests) == []


def test_digest_now_shows_deployments_assays_episodes_and_approvals(
    drift: Emulator, tmp_path: Path
) -> None:
    with running_bot(drift, tmp_path, **FAST) as bot:
        follow_the_demo(bot, drift)
        bot.poll_once()
        drift.control("clock", {"advance_seconds": DAY_MS / 1000})  # the drifted day: Alert
        wait_until(
            lambda: [b for b in bot.slack.api_calls("chat.postMessage") if "drift" in str(b)]
        )
        say(bot, "access grant <@UOPS|ops> operator")
        assert "request" in say(
            bot, "undeploy housepricedrift housepricepipe for the digest", "UOPS"
        )

        shown = say(bot, f"digest now {CHANNEL}", "UVIEWER")  # a read: viewers may
        assert "Daily digest" in shown and "ephemeral" in shown  # a reply, to the asker
        assert "*housepricepipe* (workspace housepricedrift): Running since" in shown
        assert "*example assay*" in shown and "latest " in shown and "(Alert, " in shown
        assert "worst in 24 h" in shown and "last 14 windows" in shown
        assert "▁" in shown and "█" in shown  # the calm windows low, the drifted one full
        assert "(drift, Alert): opened" in shown and "still open" in shown
        assert "Undeploy" in shown and "asked by <@UOPS>" in shown
        assert digests_posted(bot.slack) == []  # shown, not posted

        elsewhere = say(bot, "digest now <#COTHER|other>")
        assert "No deployment is watched here" in elsewhere
        assert "No assay is subscribed here" in elsewhere


def test_names_in_a_digest_are_escaped(drift: Emulator, tmp_path: Path) -> None:
    assert drift.demo is not None
    hostile = "<!channel> *bold* & <@U0BOSS>"

    async def store_hostile_rows() -> None:
        async with bot.services.sessions() as session:
            common = {"channel": ALERTS, "created_by": "UADMIN"}
            session.add(
                DeploymentWatch(
                    workspace_id=1,
                    workspace_name=hostile,
                    pipeline_id=999,
                    pipeline_name=hostile,
                    **common,
                )
            )
            session.add(
                AssaySubscription(
                    assay_id=str(drift.demo["assay_id"]), assay_name=hostile, **common
                )
            )
            session.add(
                AlertEpisode(
                    kind=EpisodeKind.ASSAY, subject="assay:x", title=hostile, severity="Alert",
                    channel=ALERTS,
                )
            )  # fmt: skip
            await session.commit()

    with running_bot(drift, tmp_path, **FAST) as bot:
        bot.run(store_hostile_rows)
        shown = say(bot, f"digest now {CHANNEL}")
        assert "<!channel>" not in shown and "<@U0BOSS>" not in shown
        assert "&amp;lt;" not in shown  # escaped once, not twice
        assert shown.count("&lt;!channel&gt; *bold* &amp; &lt;@U0BOSS&gt;") >= 3


def test_the_console_sets_lists_shows_and_turns_off_a_digest(
    drift: Emulator, tmp_path: Path
) -> None:
    """Console parity: the same commands, typed in the demo's console (its channel `#console`)."""
    assert drift.demo is not None
    settings = drift.bot_settings(tmp_path, chatops_poll_seconds=3600)
    script = [
        "watch housepricedrift housepricepipe",
        f"subscribe assay {drift.demo['assay_id']}",
        "digest #console 25:00",
        "digest #console 08:15",
        "digest",
        "digest now",
        "digest off #console",
        "digests",
    ]
    out = io.StringIO()
    status = asyncio.run(
        serve_console(
            settings,
            "UADMIN",
            poll=True,
            emulator_url=drift.url,
            stdin=io.StringIO("\n".join(script) + "\n"),
            stdout=out,
        )
    )
    printed = out.getvalue()
    assert status == 0, printed

    def answer(line: str) -> str:
        return printed.split(f"$ {line}\n", 1)[1].split("\n$ ", 1)[0]

    assert "is not a time of day" in answer("digest #console 25:00")
    assert "#console will get a daily digest at 08:15 UTC" in answer("digest #console 08:15")
    assert "#console at 08:15 UTC" in answer("digest")
    shown = answer("digest now")
    assert "Daily digest" in shown and "housepricepipe (workspace housepricedrift)" in shown
    assert "example assay" in shown and "last 14 windows" in shown
    assert "No more daily digest in #console" in answer("digest off #console")
    assert "No channel has a daily digest" in answer("digests")


def test_due_in_the_configured_time_zone_and_a_bad_zone_refused_at_start() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    digest = Digest(channel=ALERTS, time="09:00", created_by="U1")
    winter = datetime(2026, 12, 1, 7, 59, tzinfo=UTC)  # 08:59 in Berlin
    assert due_day(digest, winter, berlin) is None
    assert due_day(digest, winter + timedelta(minutes=1), berlin) == winter.date()
    summer = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)  # 09:00 in Berlin (CEST)
    assert due_day(digest, summer, berlin) == summer.date()
    digest.last_sent_for = summer.date()
    assert due_day(digest, summer + timedelta(hours=12), berlin) is None  # once a day
    late = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # 00:30 on July 2nd in Berlin
    assert due_day(Digest(channel=ALERTS, time="00:15", created_by="U1"), late, berlin) == (
        late.date() + timedelta(days=1)
    )

    assert Settings(chatops_timezone="Asia/Kolkata").timezone.key == "Asia/Kolkata"
    with pytest.raises(ValidationError, match="CHATOPS_TIMEZONE must be an IANA time zone"):
        Settings(chatops_timezone="Mars/Olympus_Mons")


def test_moving_a_sent_digest_later_today_does_not_send_it_again(
    drift: Emulator, tmp_path: Path
) -> None:
    clock = MovableClock()
    now = clock()
    to_eight = ((8 - now.hour) % 24) * HOUR - now.minute * 60 - now.second
    clock.advance(to_eight if to_eight > 0 else to_eight + 24 * HOUR)  # 08:00 UTC: no midnight
    with running_bot(drift, tmp_path, clock=clock, **FAST) as bot:
        follow_the_demo(bot, drift)
        assert "will get a daily digest" in say(bot, f"digest {CHANNEL} {in_an_hour(clock)}")
        clock.advance(HOUR)
        bot.poll_once()
        assert len(digests_posted(bot.slack)) == 1  # today's
        assert "now gets a daily digest" in say(bot, f"digest {CHANNEL} {in_an_hour(clock)}")
        clock.advance(HOUR)  # past the new time, the same day
        bot.poll_once()
        assert len(digests_posted(bot.slack)) == 1  # today's was sent already
        clock.advance(24 * HOUR)
        bot.poll_once()
        assert len(digests_posted(bot.slack)) == 2  # tomorrow's, at the new time

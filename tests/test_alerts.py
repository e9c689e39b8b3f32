"""Alerting end to end: the bot (`serve`'s app in this process, its scheduler polling every
0.2 s) watching the emulator's drift demo as its clock moves, alerts landing in a fake Slack.
"Nothing more was posted" is asserted after a poll known to have run (`bot.poll_once()`), and
reminders and snoozes are timed on the bot's own clock, moved by the test."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.chat.console import ConsoleChat
from bot.services import open_services
from emulator.seed import DAY_MS
from handlers.alerting.assays import apply_result, check_assay, poll_state
from handlers.alerting.outbox import OutboxSender
from handlers.alerting.staging import enqueue_for_episode
from handlers.render.blocks import Reply
from storage.alerts import AlertEpisode, get_episode, open_episodes
from storage.outbox import enqueue, pending_messages
from storage.utc import utc_now
from storage.watches import AssaySubscription, add_subscription
from tests.helpers.alert_flows import (
    ALERTS,
    FAST,
    demo_assay,
    edits,
    last_edit,
    next_day,
    openings,
    posts,
    say,
    thread,
    undrifted_day,
)
from tests.helpers.alert_flows import drift as drift
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import Bot, running_bot, services_on

HOUR = 3600  # the reminder interval of the reminder tests, passed on the bot's own clock

# Every test here runs against today's Wallaroo and again against the 2022 tutorial's.
api_mode = both_api_modes


@pytest.mark.parametrize(
    ("api_mode", "generation"), [("current", "v1"), ("current", "v2"), ("seed", "v1")]
)
def test_one_message_per_episode_edits_recovery_chart_and_no_repeat_after_restart(
    drift: Emulator, tmp_path: Path, database_url: str, generation: str
) -> None:
    assert drift.demo is not None
    drift_day = drift.demo["drift_starts_ms"]
    fast = {**FAST, "database_url": database_url}
    with running_bot(drift, tmp_path, **fast) as bot:
        assay = demo_assay(drift, generation)
        assert "will go to" in say(bot, f"subscribe assay {assay} <#{ALERTS}|a>")
        bot.poll_once()  # a poll sees the 29 Ok results: no message
        assert posts(bot.slack) == []

        next_day(drift)  # the first drifted day completes: Alert
        (opening,) = wait_until(lambda: openings(bot.slack))
        text = json.dumps(opening)
        assert "Alert: drift on assay “example assay”" in json.dumps(opening, ensure_ascii=False)
        assert "alert_ack" in text and "alert_snooze_4h" in text and "Bins that moved most" in text
        assert "alert 0.1000" in text and "housepricepipe" in text
        (upload,) = bot.slack.wait_for("/upload/", 1)
        assert upload.body["png"] and upload.body["bytes"] > 10_000
        (completed,) = bot.slack.wait_for("/api/files.completeUploadExternal", 1)
        assert completed.body["thread_ts"] == bot.slack.posted_ts[0]
        bot.poll_once()  # the same results polled again
        assert len(openings(bot.slack)) == 1  # still one message

    # A restart between polls: nothing already sent is sent again.
    with running_bot(drift, tmp_path, **fast) as bot:
        bot.poll_once()
        assert posts(bot.slack) == [] and edits(bot.slack) == []

        next_day(drift)  # a second drifted day: the same episode, edited
        edited = wait_until(lambda: [e for e in edits(bot.slack) if "2 breaching" in json.dumps(e)])
        assert edited[-1]["ts"] == "1700000001.000100"  # the message the first bot posted
        assert openings(bot.slack) == []

        undrifted_day(drift, drift_day + 2 * DAY_MS)
        next_day(drift)  # back to Ok: a recovery in the thread, the episode closed
        (recovery,) = wait_until(lambda: thread(bot.slack))
        assert "Back to *Ok*" in json.dumps(recovery)
        assert recovery["thread_ts"] == "1700000001.000100"
        wait_until(lambda: "Recovered at" in last_edit(bot.slack))
        assert openings(bot.slack) == []


def open_alert(drift: Emulator, bot: Bot) -> dict:
    """Subscribe to the demo assay, move a day on, and return the episode's opening message."""
    assert drift.demo is not None
    say(bot, f"subscribe assay {drift.demo['assay_id']} <#{ALERTS}|a>")
    bot.poll_once()  # the Ok results seen first
    next_day(drift)
    (opening,) = wait_until(lambda: openings(bot.slack))
    return opening


def episode_of(opening: dict) -> str:
    actions = [b for b in opening["blocks"] if b["type"] == "actions"]
    return actions[0]["elements"][0]["value"]


def test_a_429_is_retried_after_retry_after_and_the_alert_is_posted_once(
    drift: Emulator, tmp_path: Path
) -> None:
    slack = FakeSlack(rate_limited={"chat.postMessage": 1})
    with running_bot(drift, tmp_path, slack=slack, **FAST) as bot:
        open_alert(drift, bot)
        refused = [c for c in slack.calls if c.path == "/api/chat.postMessage#429"]
        assert len(refused) == 1
        bot.poll_once()
        assert len(openings(slack)) == 1
        metrics = bot.metrics()
        assert "chatops_scheduler_leader 1.0" in metrics
        assert 'chatops_alert_messages_total{kind="post"} 1.0' in metrics
        assert 'chatops_alert_messages_total{kind="upload"} 1.0' in metrics
        assert 'chatops_poll_cycle_seconds_count{job="assays"}' in metrics


def test_a_wallaroo_outage_gives_one_notice_one_recovery_and_loses_no_result(
    drift: Emulator, tmp_path: Path
) -> None:
    assert drift.demo is not None
    with running_bot(drift, tmp_path, **FAST) as bot:
        say(bot, f"subscribe assay {drift.demo['assay_id']} <#{ALERTS}|a>")
        bot.poll_once()
        drift.control("faults", {"path_prefix": "/v1/api/assays", "error_rate": 1.0})
        try:
            (down,) = wait_until(lambda: openings(bot.slack))
            assert "Wallaroo is unreachable" in json.dumps(down)
            next_day(drift)  # a breaching result arrives while the bot cannot see it
            failed = bot.poller.outage.failures
            wait_until(lambda: bot.poller.outage.failures > failed)  # another poll failed...
            bot.run(bot.poller.sender.deliver_due)  # ...and what it had to say was delivered
            assert len(openings(bot.slack)) == 1  # one notice, not one per poll
        finally:
            drift.http.delete(f"{drift.url}/emulator/faults")
        wait_until(lambda: len(openings(bot.slack)) == 3)
        texts = [json.dumps(p) for p in openings(bot.slack)]
        assert "reachable again" in texts[1] or "reachable again" in texts[2]
        assert any("Alert: drift on assay" in t for t in texts[1:])  # caught up
        bot.poll_once()
        assert len(openings(bot.slack)) == 3


def test_snooze_and_acknowledge_stop_reminders_and_viewers_cannot(
    drift: Emulator, tmp_path: Path
) -> None:
    with running_bot(drift, tmp_path, chatops_alert_reminder_seconds=HOUR, **FAST) as bot:
        assert bot.clock is not None
        episode = episode_of(open_alert(drift, bot))

        def reminders() -> list[dict]:
            return [t for t in thread(bot.slack) if "Still open" in json.dumps(t)]

        bot.clock.advance(HOUR)
        wait_until(lambda: reminders())  # unacknowledged for an hour: reminded in the thread
        refusal = json.dumps(bot.reply_to(bot.click("alert_snooze_4h", episode, "UVIEWER")[1]))
        assert "by operators; you are *viewer*" in refusal
        answer = json.dumps(bot.reply_to(bot.click("alert_snooze_4h", episode, "UADMIN")[1]))
        assert "Snoozed" in answer and "for 4 h" in answer
        wait_until(lambda: "Snoozed until" in last_edit(bot.slack))
        before = len(reminders())
        bot.clock.advance(2 * HOUR)  # two reminder intervals, within the 4 h snooze
        bot.poll_once()
        assert len(reminders()) == before

        answer = json.dumps(bot.reply_to(bot.click("alert_ack", episode, "UADMIN")[1]))
        assert "no more reminders" in answer
        wait_until(lambda: "Acknowledged by" in last_edit(bot.slack))
        bot.clock.advance(4 * HOUR)  # past the snooze: acknowledged, so still not reminded
        bot.poll_once()
        assert len(reminders()) == before
        audit = say(bot, "audit 10")
        assert f"[button] snooze 4h episode {episode}" in audit and "refused" in audit


def test_run_assay_now_from_an_alert(drift: Emulator, tmp_path: Path) -> None:
    with running_bot(drift, tmp_path, **FAST) as bot:
        episode = episode_of(open_alert(drift, bot))
        answer = json.dumps(bot.reply_to(bot.click("alert_run_assay", episode, "UVIEWER")[1]))
        assert "example assay: 30 window(s)" in answer  # the interactive run, all windows


@pytest.fixture
def flaky(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    """The demo pipeline deployed just now, reporting Error for 30 s, Starting until 60 s."""
    return start_emulator(
        api=api_mode,
        seed_demo=True,
        deployment_startup_seconds=60,
        deployment_startup_error_seconds=30,
    )


def health_of(db_dir: Path) -> str:
    with sqlite3.connect(db_dir / "chatops.db") as db:
        row = db.execute("SELECT status FROM deployment_health").fetchone()
    return row[0] if row else ""


def test_a_transient_start_up_error_is_not_alerted(flaky: Emulator, tmp_path: Path) -> None:
    with running_bot(flaky, tmp_path, **FAST) as bot:
        assert "Watching housepricepipe" in say(
            bot, f"watch housepricedrift housepricepipe <#{ALERTS}|a>"
        )
        wait_until(lambda: health_of(tmp_path) == "Error")
        for _ in range(3):
            bot.poll_once()  # several polls see the Error
        assert posts(bot.slack) == []
        flaky.control("clock", {"advance_seconds": 31})
        wait_until(lambda: health_of(tmp_path) == "Starting")
        flaky.control("clock", {"advance_seconds": 30})
        wait_until(lambda: health_of(tmp_path) == "Running")
        bot.poll_once()
        assert posts(bot.slack) == []


def test_deployment_errors_and_disappearances_are_alerted_and_recovered(
    flaky: Emulator, tmp_path: Path
) -> None:
    assert flaky.demo is not None
    settings = {**FAST, "chatops_startup_error_grace_seconds": 20}
    with running_bot(flaky, tmp_path, **settings) as bot:
        assert bot.clock is not None
        say(bot, f"watch housepricedrift housepricepipe <#{ALERTS}|a>")
        wait_until(lambda: health_of(tmp_path) == "Error")
        bot.poll_once()
        assert posts(bot.slack) == []  # within the start-up's grace time
        bot.clock.advance(21)  # the emulator's stays put: Error, past the grace time
        (opening,) = wait_until(lambda: openings(bot.slack))
        assert "Deployment housepricepipe is in Error" in json.dumps(opening)
        assert "back-off restarting" in json.dumps(opening)
        bot.poll_once()
        bot.poll_once()
        assert len(openings(bot.slack)) == 1  # not one per poll
        flaky.control("clock", {"advance_seconds": 61})
        (recovery,) = wait_until(lambda: thread(bot.slack))
        assert "is Running again" in json.dumps(recovery)

        # Undeployed behind the bot's back: that is an alert too.
        flaky.admin().ok(
            "pipelines/undeploy",
            {
                "pipeline_id": flaky.demo["pipeline_id"],
                "deployment_id": flaky.demo["deployment_id"],
            },
        )
        gone = wait_until(lambda: openings(bot.slack)[1:])
        assert "is no longer deployed" in json.dumps(gone[0])


def test_app_home_shows_requests_to_decide_open_alerts_and_watches(
    drift: Emulator, tmp_path: Path
) -> None:
    with running_bot(drift, tmp_path, chatops_admins="UADMIN,UOTHER", **FAST) as bot:
        open_alert(drift, bot)
        say(bot, f"watch housepricedrift housepricepipe <#{ALERTS}|a>")
        _, key = bot.command("deploy housepricedrift housepricepipe friday", "UOTHER")
        bot.reply_to(key)
        opened = {"type": "app_home_opened", "user": "UADMIN", "channel": "D1", "tab": "home"}
        assert bot.event(opened).status_code == 200
        (published,) = bot.slack.wait_for("/api/views.publish", 1)
        assert published.body["user_id"] == "UADMIN"
        home = json.dumps(published.body["view"])
        assert "Requests you may decide* (1)" in home and "friday" in home
        assert "Open alerts* (1)" in home and "example assay" in home
        assert "Watched deployments* (1)" in home and "housepricepipe" in home

        mine = {**opened, "user": "UOTHER"}
        bot.event(mine)
        published = bot.slack.wait_for("/api/views.publish", 2)[-1]
        assert "Requests you may decide* (0)" in json.dumps(published.body["view"])


async def test_escalation_from_warning_to_alert_is_announced_once(
    drift: Emulator, tmp_path: Path, database_url: str
) -> None:
    assert drift.demo is not None
    subscription = AssaySubscription(
        assay_id=drift.demo["assay_id"], channel=ALERTS, created_by="U"
    )
    async with open_services(
        drift.bot_settings(tmp_path), chat=ConsoleChat(io.StringIO())
    ) as services:
        (real,) = (await services.wallaroo.get_assay_results(drift.demo["assay_id"]))[-1:]
        sequence = [("Warning", 0.07), ("Alert", 0.2), ("Warning", 0.08), ("Alert", 0.3)]
        async with services.sessions() as session:
            for status, score in sequence:
                result = real.model_copy(update={"status": status, "score": score})
                await apply_result(session, subscription, result, None, utc_now())
            await session.commit()
            rows = await pending_messages(session)
    kinds = [(row.kind, json.loads(row.body)["text"]) for row in rows]
    assert [k for k, _ in kinds].count("post") == 1
    escalations = [text for kind, text in kinds if kind == "thread" and "Escalated" in text]
    assert len(escalations) == 1
    updates = [text for kind, text in kinds if kind == "update"]
    assert len(updates) == 1  # older pending edits are superseded by the newest
    assert "Alert (4 breaching result(s), latest score 0.3000, worst 0.3000)" in updates[0]


async def test_a_post_whose_answer_was_lost_is_found_not_posted_again(
    drift: Emulator, tmp_path: Path
) -> None:
    slack = FakeSlack()
    async with services_on(drift, tmp_path, slack) as services:
        sender = OutboxSender(services)
        async with services.sessions() as session:
            episode = AlertEpisode(
                kind="assay", subject="assay:9", title="a", channel=ALERTS, severity="Alert"
            )
            session.add(episode)
            await session.flush()
            lost = await enqueue(
                session, channel=ALERTS, kind="post", episode_id=episode.id,
                message={"text": "lost answer", "blocks": []},
            )  # fmt: skip
            never = await enqueue(
                session, channel="COTHER", kind="post",
                message={"text": "never sent", "blocks": []},
            )  # fmt: skip
            await session.commit()
            # A replica sent both rows' first attempt and died: one reached Slack
            # (its answer was lost), the other never left.
            await services.chat.post(ALERTS, Reply(text="lost answer"), key=f"outbox-{lost.id}")
            for row in (lost, never):
                row.attempts = 1
                session.add(row)
            await session.commit()
        assert await sender.deliver_due() == 2
        async with services.sessions() as session:
            found = await get_episode(session, episode.id or 0)
    texts = [b["text"] for b in slack.api_calls("chat.postMessage")]
    assert texts.count("lost answer") == 1 and texts.count("never sent") == 1
    assert found is not None and found.message_ts == slack.posted_ts[0]


async def test_alerts_to_a_channel_name_are_edited_and_threaded_by_the_channel_id(
    drift: Emulator, tmp_path: Path
) -> None:
    slack = FakeSlack()
    async with services_on(drift, tmp_path, slack) as services:
        async with services.sessions() as session:
            episode = AlertEpisode(
                kind="assay", subject="assay:7", title="a", channel="#ml-alerts",
                severity="Warning",
            )  # fmt: skip
            session.add(episode)
            await session.flush()
            for kind in ("post", "update", "thread"):
                await enqueue_for_episode(session, episode, kind, Reply(text=kind))
            await session.commit()
        assert await OutboxSender(services).deliver_due() == 3
    (edit,) = slack.api_calls("chat.update")
    (reply,) = [b for b in slack.api_calls("chat.postMessage") if b.get("thread_ts")]
    assert edit["channel"] == reply["channel"] == "CMLALERTS"
    assert edit["ts"] == reply["thread_ts"] == slack.posted_ts[0]


def test_unsubscribing_closes_the_open_episode_without_a_recovery(
    drift: Emulator, tmp_path: Path
) -> None:
    assert drift.demo is not None
    with running_bot(drift, tmp_path, chatops_alert_reminder_seconds=HOUR, **FAST) as bot:
        assert bot.clock is not None
        open_alert(drift, bot)

        def reminders() -> int:
            return len([t for t in thread(bot.slack) if "Still open" in json.dumps(t)])

        bot.clock.advance(HOUR)
        wait_until(reminders)  # open and unacknowledged: reminded
        assert "No more alerts" in say(bot, f"unsubscribe assay {drift.demo['assay_id']}")
        (note,) = wait_until(lambda: [t for t in thread(bot.slack) if "closed" in json.dumps(t)])
        assert "No longer subscribed" in json.dumps(note)
        wait_until(lambda: "Closed at" in last_edit(bot.slack))
        assert "alert_ack" not in last_edit(bot.slack)  # no buttons on a closed episode
        before = reminders()
        bot.clock.advance(2 * HOUR)  # two reminder intervals on, it is closed: not reminded
        bot.poll_once()
        assert reminders() == before


async def test_two_polls_of_the_same_results_apply_them_once(
    drift: Emulator, tmp_path: Path, database_url: str
) -> None:
    assert drift.demo is not None
    subscription = AssaySubscription(
        assay_id=drift.demo["assay_id"], channel=ALERTS, created_by="U"
    )
    settings = drift.bot_settings(tmp_path, database_url=database_url)
    async with open_services(settings, chat=ConsoleChat(io.StringIO())) as services:
        async with services.sessions() as session:
            await add_subscription(session, subscription)
        assert await check_assay(services, subscription, None, None) == 1  # the latest, Ok
        async with services.sessions() as session:
            ((cursor, episode),) = (await poll_state(session, [subscription])).values()
        next_day(drift)
        next_day(drift)
        handled = await asyncio.gather(
            check_assay(services, subscription, cursor, episode),
            check_assay(services, subscription, cursor, episode),
        )
        assert sorted(handled) == [0, 2]
        async with services.sessions() as session:
            (opened,) = await open_episodes(session)
            posts = [r for r in await pending_messages(session) if r.kind == "post"]
    assert opened.count == 2 and len(posts) == 1


def test_app_home_says_so_when_wallaroo_does_not_answer(drift: Emulator, tmp_path: Path) -> None:
    slack = FakeSlack(emails={"UADMIN": "admin@wallaroo.example"})
    aware = {"chatops_workspace_aware_permissions": True, "chatops_admins": "UADMIN,UOTHER"}
    with running_bot(drift, tmp_path, slack=slack, **aware, **FAST) as bot:
        _, key = bot.command("deploy housepricedrift housepricepipe", "UOTHER")
        bot.reply_to(key)
        drift.control("faults", {"path_prefix": "/v1/api/workspaces", "error_rate": 1.0})
        try:
            bot.event({"type": "app_home_opened", "user": "UADMIN", "tab": "home"})
            (published,) = bot.slack.wait_for("/api/views.publish", 1)
        finally:
            drift.http.delete(f"{drift.url}/emulator/faults")
        assert "Wallaroo did not answer" in json.dumps(published.body["view"])


async def test_a_lost_post_to_a_channel_name_is_found_by_the_channel_id(
    drift: Emulator, tmp_path: Path
) -> None:
    slack = FakeSlack(known_channels=["#general"])
    async with services_on(drift, tmp_path, slack) as services:
        async with services.sessions() as session:
            episode = AlertEpisode(
                kind="assay", subject="assay:8", title="a", channel="#ml-alerts",
                severity="Alert",
            )  # fmt: skip
            session.add(episode)
            await session.flush()
            await enqueue_for_episode(session, episode, "post", Reply(text="opening"))
            await session.commit()
            (row,) = await pending_messages(session)
            await services.chat.post("#ml-alerts", Reply(text="opening"), key=f"outbox-{row.id}")
            row.attempts = 1  # sent by a process that died before recording it
            session.add(row)
            await enqueue_for_episode(session, episode, "update", Reply(text="edit"))
            await session.commit()
        assert await OutboxSender(services).deliver_due() == 2
    assert [b["text"] for b in slack.api_calls("chat.postMessage")] == ["opening"]
    (edit,) = slack.api_calls("chat.update")
    assert edit["channel"] == "CMLALERTS" and edit["ts"] == slack.posted_ts[0]

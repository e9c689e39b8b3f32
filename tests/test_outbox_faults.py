"""The outbox under Slack's bad days, over a fake Slack on real HTTP: a rate-limited channel
waits alone, a slow post that lands after the client gave up is found rather than posted again,
a permanent refusal is given up at once and said once, and a pipeline never deployed while
watched is not "no longer deployed". Times the outbox decides by are the bot's clock
(`MovableClock`), moved by the test instead of sleeping."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from handlers.alerting.episodes import close_episode
from handlers.alerting.outbox import OutboxSender
from handlers.alerting.outbox_send import UNKNOWN_FATE_GRACE_SECONDS
from handlers.alerting.staging import enqueue_for_episode
from handlers.context import Services
from handlers.render.blocks import Reply
from storage.alerts import AlertEpisode, get_episode, open_episode
from storage.outbox import OutboxKind, OutboxMessage, enqueue, pending_messages
from tests.helpers.clock import MovableClock
from tests.helpers.emulators import Emulator
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import running_bot, services_on


async def stage(services: Services, channel: str, text: str) -> None:
    async with services.sessions() as session:
        await enqueue(session, channel=channel, kind=OutboxKind.POST, message={"text": text})
        await session.commit()


async def stage_episode(services: Services, channel: str, subject: str) -> AlertEpisode:
    """An open episode and its opening post, as a poll stages them."""
    async with services.sessions() as session:
        episode = AlertEpisode(
            kind="assay", subject=subject, title="a", channel=channel, severity="Alert"
        )
        session.add(episode)
        await session.flush()
        await enqueue_for_episode(session, episode, OutboxKind.POST, Reply(text="opening"))
        await session.commit()
        return episode


def texts(slack: FakeSlack, channel: str) -> list[str]:
    return [b["text"] for b in slack.api_calls("chat.postMessage") if b["channel"] == channel]


async def eventually(predicate: Callable[[], Any], seconds: float) -> Any:
    """`wait_until` off the event loop, which the sender needs meanwhile."""
    return await asyncio.to_thread(wait_until, predicate, seconds)


async def test_a_rate_limited_channel_waits_alone_and_posts_once_after_retry_after(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    slack = FakeSlack(channel_rate_limits={"CSLOW": [20]})
    clock = MovableClock()
    async with services_on(start_emulator(), tmp_path, slack, clock) as services:
        sender = OutboxSender(services)
        await stage(services, "CSLOW", "for the slow channel")
        running = asyncio.create_task(sender.run_forever())
        try:
            await eventually(lambda: slack.wait_for("/api/chat.postMessage#429", 1, 0), 5)
            # The slow channel answered 429 + Retry-After 20: another channel's alert staged
            # now goes out at once, not after the wait.
            await stage(services, "CFAST", "for the fast channel")
            sender.wake()
            started = time.monotonic()
            await eventually(lambda: texts(slack, "CFAST"), 3)
            assert time.monotonic() - started < 3
            assert texts(slack, "CSLOW") == []  # posted only once its wait is over...
            clock.advance(21)
            sender.wake()
            await eventually(lambda: texts(slack, "CSLOW"), 5)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        assert await sender.deliver_due() == 0  # ...and once
        async with services.sessions() as session:
            assert await pending_messages(session) == []
    assert texts(slack, "CSLOW") == ["for the slow channel"]
    assert texts(slack, "CFAST") == ["for the fast channel"]
    assert len([c for c in slack.calls if c.path == "/api/chat.postMessage#429"]) == 1


@pytest.mark.parametrize("grace", [None, 5.0], ids=["default grace", "grace 5 s"])
async def test_a_slow_post_that_lands_after_the_timeout_is_found_not_posted_twice(
    start_emulator: Callable[..., Emulator], tmp_path: Path, grace: float | None
) -> None:
    # The client gives up after 2 s (10 s in `serve`); Slack takes 6 s, and the post lands.
    slack = FakeSlack(post_delays=[6])
    clock = MovableClock()
    settings = {} if grace is None else {"chatops_post_lookup_grace_seconds": grace}
    waited = UNKNOWN_FATE_GRACE_SECONDS if grace is None else grace
    async with services_on(start_emulator(), tmp_path, slack, clock, **settings) as services:
        services.chat.client.timeout = 2  # type: ignore[attr-defined]
        sender = OutboxSender(services)
        episode = await stage_episode(services, "CALERTS", "assay:1")
        before = clock()
        assert await sender.deliver_due() == 0  # timed out: its fate is unknown
        after = clock()
        async with services.sessions() as session:
            (row,) = await pending_messages(session)
        # Not tried again (nor looked for) before the grace, counted from the failure.
        grace_span = timedelta(seconds=waited)
        assert before + grace_span <= row.next_attempt_at <= after + grace_span
        deadline = time.monotonic() + 15
        while not texts(slack, "CALERTS"):  # until the first post lands, nothing goes again
            assert time.monotonic() < deadline, "the slow post never landed"
            assert await sender.deliver_due() == 0
            await asyncio.sleep(0.2)
        assert not slack.api_calls("conversations.history")
        clock.advance(waited + 1)  # the grace over: look, then post
        assert await sender.deliver_due() == 1
        assert await sender.deliver_due() == 0
        async with services.sessions() as session:
            found = await get_episode(session, episode.id or 0)
    assert texts(slack, "CALERTS") == ["opening"]
    assert slack.api_calls("conversations.history")  # it was looked for, and found
    assert found is not None and found.message_ts == slack.posted_ts[0]


@pytest.mark.parametrize(
    "error",
    ["channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive"],
)
async def test_a_permanent_refusal_is_given_up_at_once_said_once_and_not_reopened(
    start_emulator: Callable[..., Emulator],
    tmp_path: Path,
    error: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack = FakeSlack(channel_errors={"CGONE": error})
    clock = MovableClock()
    settings = {"chatops_alert_channel": "CADMIN"}
    async with services_on(start_emulator(), tmp_path, slack, clock, **settings) as services:
        sender = OutboxSender(services)
        episode = await stage_episode(services, "CGONE", "assay:5")
        await stage_episode(services, "CGONE", "assay:6")  # a second alert, same channel
        with caplog.at_level(logging.WARNING):
            await sender.deliver_due()  # refused: given up, the notice staged
            assert await sender.deliver_due() == 1  # the notice
            clock.advance(3600)
            assert await sender.deliver_due() == 0  # nothing retried, an hour on
        refused = [c for c in slack.calls if c.path == "/api/chat.postMessage#error"]
        assert len(refused) == 1  # not retried, not even for the channel's other alert
        (notice,) = texts(slack, "CADMIN")
        assert "CGONE" in notice and error in notice and "not retried" in notice
        # The sender (outbox.py) and what sends each row (outbox_send.py).
        outbox = [r for r in caplog.records if r.name.startswith("handlers.alerting.outbox")]
        errors = [r for r in outbox if r.levelno == logging.ERROR]
        assert len(errors) == 1 and error in errors[0].getMessage()
        assert not [r for r in outbox if r.levelno == logging.WARNING]  # not "retrying"

        async with services.sessions() as session:
            # The episode stays open (a poll does not open another), and what a poll stages
            # for it is dropped: nothing is tried again...
            still = await open_episode(session, "assay:5")
            assert still is not None and still.id == episode.id
            await enqueue_for_episode(session, still, OutboxKind.UPDATE, Reply(text="edit"))
            await session.commit()
            assert await pending_messages(session) == []
            # ...until the subscription goes (unsubscribe closes it) and is made again.
            await close_episode(session, "assay:5", "No longer subscribed", clock())
            await session.commit()
        slack.channel_errors.clear()  # the bot was invited back
        await stage_episode(services, "CGONE", "assay:5")
        assert await sender.deliver_due() == 1
    assert texts(slack, "CGONE") == ["opening"]


async def test_a_refused_notice_to_the_admin_channel_is_not_noticed_again(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    slack = FakeSlack(channel_errors={"CADMIN": "invalid_auth", "CGONE": "invalid_auth"})
    clock = MovableClock()
    settings = {"chatops_approval_channel": "CADMIN"}
    async with services_on(start_emulator(), tmp_path, slack, clock, **settings) as services:
        sender = OutboxSender(services)
        await stage_episode(services, "CGONE", "assay:5")
        await sender.deliver_due()  # CGONE refused: a notice for CADMIN staged
        await sender.deliver_due()  # CADMIN refused too: no notice about the notice
        async with services.sessions() as session:
            assert await pending_messages(session) == []
            rows = list(await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))
    assert [r.channel for r in rows] == ["CGONE", "CADMIN"]
    assert all(r.state == "failed" for r in rows)


def test_watching_a_never_deployed_pipeline_alerts_nothing(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = start_emulator(seed_demo=True, deployment_startup_seconds=0)
    fast = {"chatops_poll_seconds": 0.2, "chatops_channel_pacing_seconds": 0.05}
    with running_bot(emulator, tmp_path, **fast) as bot:
        _, key = bot.command("pipeline create housepricedrift neverdeployed", "UADMIN")
        assert "neverdeployed" in json.dumps(bot.reply_to(key))
        _, key = bot.command("watch housepricedrift neverdeployed <#CALERTS|a>", "UADMIN")
        assert "Watching neverdeployed" in json.dumps(bot.reply_to(key))
        bot.poll_once()
        bot.poll_once()
        posted = [b for b in bot.slack.api_calls("chat.postMessage") if b["channel"] == "CALERTS"]
        assert posted == []  # never seen deployed since the watch began: not "gone"
        # (A watched pipeline undeployed behind the bot's back still alerts: test_alerts.)


def test_a_rewatch_after_an_undeploy_behind_the_unwatch_alerts_nothing(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    # Watched while Running, unwatched, undeployed, watched again: what the first watch saw
    # (Running) must not make the second one say "no longer deployed" at once.
    emulator = start_emulator(seed_demo=True, deployment_startup_seconds=0)
    assert emulator.demo is not None
    fast = {"chatops_poll_seconds": 0.2, "chatops_channel_pacing_seconds": 0.05}
    with running_bot(emulator, tmp_path, **fast) as bot:
        _, key = bot.command("watch housepricedrift housepricepipe <#CALERTS|a>", "UADMIN")
        assert "Watching housepricepipe" in json.dumps(bot.reply_to(key))
        bot.poll_once()  # seen Running
        _, key = bot.command("unwatch housepricedrift housepricepipe", "UADMIN")
        assert "housepricepipe" in json.dumps(bot.reply_to(key))
        emulator.admin().ok(
            "pipelines/undeploy",
            {
                "pipeline_id": emulator.demo["pipeline_id"],
                "deployment_id": emulator.demo["deployment_id"],
            },
        )
        _, key = bot.command("watch housepricedrift housepricepipe <#CALERTS|a>", "UADMIN")
        assert "Watching housepricepipe" in json.dumps(bot.reply_to(key))
        bot.poll_once()
        bot.poll_once()
        posted = [b for b in bot.slack.api_calls("chat.postMessage") if b["channel"] == "CALERTS"]
        assert posted == []  # never seen deployed since this watch began

"""Runbooks and owners (issue 15, item 5), on both emulator API modes: `watch` and `subscribe`
take `runbook=URL` and `owner=@user`, store them and `watches` lists them; an alert's opening
message links the runbook and mentions the owner, its edits show the owner as plain text (no
second notification), in a message of its own and in a storm's group message; hostile links
and names are escaped; bad input gets a clear error and stores nothing."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.chat.console import ConsoleChat
from bot.services import open_services
from handlers.alerting.deployments import Observation, apply_observation
from handlers.commands.router import handle_command
from handlers.context import Actor, Services
from handlers.render.blocks import Reply, render_text
from storage.outbox import pending_messages
from storage.watches import list_subscriptions, list_watches
from tests.helpers.alert_flows import (
    ALERTS,
    FAST,
    edits,
    last_edit,
    more_assays,
    next_day,
    openings,
    say,
    thread,
)
from tests.helpers.alert_flows import drift as drift
from tests.helpers.commands import ADMIN
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.net import wait_until
from tests.helpers.slack_bot import running_bot

api_mode = both_api_modes
WS = "housepricedrift"
OPERATOR = Actor("UOPS", "olga", "T1", "C7")
RUNBOOK = "https://wiki.example.com/runbooks/drift?team=ml&amp;level=1"
STORED = "https://wiki.example.com/runbooks/drift?team=ml&level=1"


@pytest.fixture
def demo(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_emulator(api=api_mode, seed_demo=True, deployment_startup_seconds=0)


@pytest.fixture
async def services(demo: Emulator, tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(demo.bot_settings(tmp_path)) as opened:
        await mrkdwn_of(opened, "access grant <@UOPS|olga> operator", Actor("UADMIN", "ada"))
        yield opened


async def mrkdwn_of(services: Services, text: str, actor: Actor = OPERATOR) -> str:
    """The reply as Slack gets it (its blocks' mrkdwn, validated), to see links and mentions."""
    reply = await handle_command(services, actor, text)
    assert isinstance(reply, Reply)
    return json.dumps(reply.to_slack(), ensure_ascii=False)


async def test_watch_and_subscribe_store_them_and_watches_lists_them(services: Services) -> None:
    answer = await mrkdwn_of(
        services, f"watch {WS} housepricepipe runbook=<{RUNBOOK}> owner=<@UOLIVE|olive>"
    )
    assert "Watching" in answer and "@olive" in answer
    assert f"<{RUNBOOK}|wiki.example.com/runbooks/drift?team=ml&amp;level=1>" in answer
    assert "<@UOLIVE>" not in answer  # a reply names the owner without notifying them
    answer = await mrkdwn_of(
        services,
        "subscribe assay 1 owner=<@UOLIVE> <#C9|ml-alerts> runbook=https://rb.example.org/a",
    )
    assert "will go to <#C9>" in answer and "`UOLIVE`" in answer  # any order after the id
    async with services.sessions() as session:
        (watch,) = await list_watches(session)
        (subscription,) = await list_subscriptions(session)
    assert (watch.runbook, watch.owner) == (STORED, "UOLIVE|olive")
    assert (subscription.runbook, subscription.owner) == ("https://rb.example.org/a", "UOLIVE")
    assert subscription.channel == "C9"

    listed = await mrkdwn_of(services, "watches", Actor("UADMIN", "ada"))
    assert "status changes to <#C7> · runbook <https://wiki.example.com" in listed
    assert "owner @olive · set up by <@UOPS>" in listed
    assert "drift alerts to <#C9> · runbook <https://rb.example.org/a|rb.example.org/a>" in listed
    assert "<@UOLIVE>" not in listed
    # Without them, nothing extra (and the plain text of the listing reads well).
    text = render_text(await handle_command(services, OPERATOR, f"unwatch {WS} housepricepipe"))
    assert "Stopped watching" in text
    await mrkdwn_of(services, f"watch {WS} housepricepipe")
    async with services.sessions() as session:
        (watch,) = await list_watches(session)
    assert (watch.runbook, watch.owner) == (None, None)


async def test_an_owner_by_name_is_looked_up(demo: Emulator, tmp_path: Path) -> None:
    """`owner=@olive` as Slack sends it unescaped: the id comes from Slack's users, the name
    is kept for the plain-text owner on edits."""
    slack = FakeSlack(members=[{"id": "UOLIVE", "name": "olive", "profile": {}}])
    with running_bot(demo, tmp_path, slack=slack, **FAST) as bot:
        answer = say(bot, f"watch {WS} housepricepipe owner=@olive")
        assert "@olive" in answer

        async def stored() -> str | None:
            async with bot.services.sessions() as session:
                (watch,) = await list_watches(session)
            return watch.owner

        assert bot.run(stored) == "UOLIVE|olive"
        assert "Slack has no user named `@nobody`" in say(bot, "subscribe assay 1 owner=@nobody")


async def test_the_console_names_an_owner_as_typed(demo: Emulator, tmp_path: Path) -> None:
    """In the console a user is their own id (`:as jane`): `owner=@jane` is stored as typed."""
    settings = demo.bot_settings(tmp_path)
    async with open_services(settings, chat=ConsoleChat(io.StringIO())) as console:
        answer = await mrkdwn_of(console, f"watch {WS} housepricepipe owner=@jane #ops", ADMIN)
        assert "will go to #ops · owner @jane." in answer
        async with console.sessions() as session:
            (watch,) = await list_watches(session)
    assert watch.owner == "jane|jane"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("runbook=ftp://files.example.com/rb", "is not a runbook link (an http or https URL)"),
        ("runbook=javascript:alert(1)", "write one like `https://wiki.example.com/runbooks"),
        ("runbook=", "`runbook=` needs a runbook link"),
        ("runbook=https://a.example runbook=https://b.example", "`runbook=` is given 2 times"),
        (f"runbook=https://a.example/{'x' * 600}", "may have at most 500: use a shorter one"),
        ("runbook=<@UOLIVE>", "is a Slack mention, not a runbook link"),
        ("owner=olive", "is not an owner (a user); write"),
        ("owner=<#C9|ops>", "is not an owner (a user)"),
        ("owner=", "`owner=` needs an owner"),
    ],
)
async def test_bad_runbooks_and_owners_are_refused_and_nothing_is_stored(
    services: Services, text: str, error: str
) -> None:
    for command in (f"watch {WS} housepricepipe {text}", f"subscribe assay 1 {text}"):
        answer = await mrkdwn_of(services, command)
        assert error in answer, answer
        assert "[runbook=URL] [owner=@user]" in answer  # with the usage that is right
    async with services.sessions() as session:
        assert await list_watches(session) == [] and await list_subscriptions(session) == []


def test_an_alert_links_the_runbook_and_mentions_the_owner_once(
    drift: Emulator, tmp_path: Path
) -> None:
    """The opening post mentions the owner; the edit a second breach makes shows them as
    text. The link's characters that could break out of it arrive percent-encoded, and a
    hostile name is escaped."""
    assert drift.demo is not None
    hostile = "https://wiki.example.com/a&gt;b|c&lt;!channel&gt;"  # as Slack sends it typed
    with running_bot(drift, tmp_path, **FAST) as bot:
        subscribed = say(
            bot,
            f"subscribe assay {drift.demo['assay_id']} <#{ALERTS}|a> runbook={hostile} "
            "owner=<@UOLIVE|&lt;!here&gt; *olive*>",
        )
        assert "will go to" in subscribed
        bot.poll_once()
        next_day(drift)
        (opening,) = wait_until(lambda: openings(bot.slack))
        text = json.dumps(opening["blocks"], ensure_ascii=False)
        assert "<@UOLIVE>" in text and "Owner:" in text
        assert "<https://wiki.example.com/a%3Eb%7Cc%3C!channel%3E|" in text
        assert "<!channel>" not in text and "<!here>" not in text
        assert "<@UOLIVE>" not in opening["text"]  # the fallback is escaped plain text

        next_day(drift)  # a second breach: the same message, edited
        edited = wait_until(lambda: [e for e in edits(bot.slack) if "2 breaching" in str(e)])
        shown = json.dumps(edited[-1]["blocks"], ensure_ascii=False)
        assert "<@UOLIVE>" not in shown  # an edit must not notify the owner again
        assert "Owner: @&lt;!here&gt; *olive*" in shown
        assert "<https://wiki.example.com/a%3Eb%7Cc%3C!channel%3E|" in shown
        assert "<!here>" not in shown


def test_a_storm_mentions_each_owner_in_its_opening_only(drift: Emulator, tmp_path: Path) -> None:
    assert drift.demo is not None
    assays = [drift.demo["assay_id"], *more_assays(drift, 1)]
    with running_bot(drift, tmp_path, **FAST) as bot:
        for assay, owner in zip(assays, ("<@UOLIVE|olive>", "<@UPAT|pat>"), strict=True):
            runbook = f"runbook=https://rb.example.org/{assay}"
            assert "will go to" in say(
                bot, f"subscribe assay {assay} <#{ALERTS}|a> {runbook} owner={owner}"
            )
        deploy = "runbook=https://rb.example.org/deploy owner=<@UDEE|dee>"
        assert "Watching" in say(bot, f"watch {WS} housepricepipe <#{ALERTS}|a> {deploy}")
        bot.poll_once()
        next_day(drift)  # both breach in one poll: one group message
        (opening,) = wait_until(lambda: openings(bot.slack))
        text = json.dumps(opening["blocks"], ensure_ascii=False)
        assert "2 open alert(s)" in text
        assert "<@UOLIVE>" in text and "<@UPAT>" in text
        assert all(f"<https://rb.example.org/{assay}|" in text for assay in assays)

        next_day(drift)
        edited = wait_until(lambda: [e for e in edits(bot.slack) if "2 breaching" in str(e)])
        shown = json.dumps(edited[-1]["blocks"], ensure_ascii=False)
        assert "<@UOLIVE>" not in shown and "<@UPAT>" not in shown
        assert "Owner: @olive" in shown and "Owner: @pat" in shown
        assert all(f"<https://rb.example.org/{assay}|" in shown for assay in assays)

        # The deployment fails after the group message went out: its line is an edit, which
        # notifies nobody, so its owner is mentioned in the group's thread instead.
        drift.admin().ok(
            "pipelines/undeploy",
            {
                "pipeline_id": drift.demo["pipeline_id"],
                "deployment_id": drift.demo["deployment_id"],
            },
        )
        wait_until(lambda: "Deployment housepricepipe: Gone" in last_edit(bot.slack))
        (call,) = wait_until(lambda: [t for t in thread(bot.slack) if "<@UDEE>" in str(t)])
        assert call["thread_ts"] == bot.slack.posted_ts[0]
        assert "*housepricepipe*: :bust_in_silhouette: Owner: <@UDEE>" in json.dumps(call["blocks"])
        shown = last_edit(bot.slack)
        assert "<@UDEE>" not in shown and "Owner: @dee" in shown
        assert "<https://rb.example.org/deploy|rb.example.org/deploy>" in shown
        assert len(openings(bot.slack)) == 1


async def test_a_deployment_alert_carries_them_too(services: Services) -> None:
    """The watch's runbook and owner reach its episode: the opening post (as staged in the
    outbox) links and mentions; the poller's observations are given as it makes them."""
    await mrkdwn_of(
        services,
        f"watch {WS} housepricepipe runbook=https://rb.example.org/dep owner=<@UDEE|dee>",
    )
    async with services.sessions() as session:
        (watch,) = await list_watches(session)
    for status in ("Running", "Error"):
        async with services.sessions() as session:
            await apply_observation(session, services, watch, Observation(status, "crashed"))
            await session.commit()
    async with services.sessions() as session:
        (post,) = [r for r in await pending_messages(session) if r.kind == "post"]
    assert "is in Error" in post.body and "<@UDEE>" in post.body
    assert "<https://rb.example.org/dep|rb.example.org/dep>" in post.body

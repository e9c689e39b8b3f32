"""A pipeline's episodes opening while another of its transactions, or its post, is under way
still make one message (issue 15, item 3): on SQLite and PostgreSQL, both emulator API modes,
the deployment's episode opened first and its assay's next, interleaved step by step; and a
same-named pipeline of another workspace is another pipeline, with a message of its own."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.chat.console import ConsoleChat
from bot.services import open_services
from bot.wallaroo import DriftResult
from handlers.alerting.assays import apply_result
from handlers.alerting.deployments import Observation, apply_observation
from handlers.alerting.outbox import OutboxSender
from handlers.chat import Posted
from handlers.context import Services
from handlers.render.blocks import Reply
from storage.alerts import EpisodeKind, open_episodes
from storage.locks import SQLITE_WRITE_LOCK
from storage.outbox import OutboxKind, pending_messages
from storage.watches import AssaySubscription, DeploymentWatch, add_watch
from tests.helpers.alert_flows import ALERTS
from tests.helpers.clock import MovableClock
from tests.helpers.emulators import Emulator, both_api_modes

api_mode = both_api_modes

COMMON = {"channel": ALERTS, "created_by": "U", "pipeline_name": "pipe"}
WATCH = DeploymentWatch(workspace_id=1, workspace_name="ws", pipeline_id=7, **COMMON)
SUBSCRIPTION = AssaySubscription(assay_id="3", assay_name="drifty", workspace_id=1, **COMMON)
BREACH = DriftResult(
    assay_id="3", generation="v1", status="Alert", score=2.0,
    window_start="2026-12-01T00:00:00+00:00", pipeline_name="pipe",
)  # fmt: skip


class InFlightChat(ConsoleChat):
    """A console whose next post runs `during` while "Slack" has the call."""

    during: Callable[[], Awaitable[None]] | None = None

    async def post(
        self, channel: str, reply: Reply, *, thread_ts: str | None = None, key: str | None = None
    ) -> Posted:
        if self.during is not None:
            during, self.during = self.during, None
            await during()
        return await super().post(channel, reply, thread_ts=thread_ts, key=key)


@pytest.fixture
def emulator(start_emulator: Callable[..., Emulator], api_mode: str) -> Emulator:
    return start_emulator(api=api_mode)


@asynccontextmanager
async def followed(
    emulator: Emulator, tmp_path: Path, database_url: str, chat: ConsoleChat
) -> AsyncIterator[Services]:
    """Services on `chat` with pipeline `pipe` watched and its assay 3 subscribed."""
    settings = emulator.bot_settings(
        tmp_path, database_url=database_url, chatops_startup_error_grace_seconds=0
    )
    async with open_services(settings, chat=chat, clock=MovableClock()) as services:
        async with services.sessions() as session:
            await add_watch(session, DeploymentWatch(**WATCH.model_dump()))
            session.add(AssaySubscription(**SUBSCRIPTION.model_dump()))
            await session.commit()
        yield services


async def deployment_fails(services: Services) -> None:
    async with services.sessions() as session:
        await apply_observation(session, services, WATCH, Observation("Error", "crash"))
        await session.commit()


async def assay_breaches(services: Services) -> None:
    async with services.sessions() as session:
        await apply_result(session, SUBSCRIPTION, BREACH, None, services.clock())
        await session.commit()


async def assert_one_message_for_both(services: Services, printed: str) -> None:
    """Every open episode of the pipeline shows the one message, which now lists both."""
    async with services.sessions() as session:
        episodes = await open_episodes(session)
        assert await pending_messages(session) == []
    assert sorted(e.kind for e in episodes) == ["assay", "deployment", "group"]
    assert {e.message_ts for e in episodes} == {"1.000000"}
    assert printed.count(f"[message 1.000000 in {ALERTS}]") == 1  # one post, then its edits
    assert "[message 2." not in printed
    last = printed[printed.rindex("[message 1.000000") :]  # as it reads now
    assert "Deployment pipe: Error" in last and "Assay drifty: Alert" in last


async def test_an_opening_not_sent_yet_goes_out_as_the_groups_one_post(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """The deployment's opening is still in the outbox when its assay's episode opens: that
    row is sent as the group's post, listing both; the deployment's own never goes out."""
    out = io.StringIO()
    async with followed(emulator, tmp_path, database_url, ConsoleChat(out)) as services:
        await deployment_fails(services)
        await assay_breaches(services)
        async with services.sessions() as session:
            rows = await pending_messages(session)
            (group,) = [e for e in await open_episodes(session) if e.kind == EpisodeKind.GROUP]
        assert [r.episode_id for r in rows if r.kind == OutboxKind.POST] == [group.id]
        await OutboxSender(services).deliver_due()
        await assert_one_message_for_both(services, out.getvalue())
    assert "2 open alert(s) on pipeline pipe" in out.getvalue()  # the group's own post


async def test_an_episode_joining_while_the_lone_post_is_in_flight_gets_the_message(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """The deployment's post is with Slack when the assay's episode opens and adopts that
    post for their group: once it lands, it is the group's message and is edited to list
    both (before, the group and the assay never learnt it, and their edit waited forever)."""
    out = io.StringIO()
    chat = InFlightChat(out)
    async with followed(emulator, tmp_path, database_url, chat) as services:
        await deployment_fails(services)
        chat.during = lambda: assay_breaches(services)
        await OutboxSender(services).deliver_due()  # the post, the assay opening meanwhile
        assert chat.during is None
        await OutboxSender(services).deliver_due()  # the group's edit, now it has a message
        await assert_one_message_for_both(services, out.getvalue())


def lock_statements(services: Services) -> asyncio.Event:
    """Set when a second transaction asks the database for a pipeline's lock."""
    asked, loop, seen = asyncio.Event(), asyncio.get_running_loop(), [0]

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement == SQLITE_WRITE_LOCK or "pg_advisory_xact_lock(" in statement:
            seen[0] += 1
            if seen[0] == 2:
                loop.call_soon_threadsafe(asked.set)

    event.listen(services.engine.sync_engine, "before_cursor_execute", before)
    return asked


async def test_an_assay_opening_while_the_deployments_transaction_is_open_joins_it(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """The deployment poll has staged its episode, not committed, when the assay poll opens
    the assay's: the assay's transaction waits for the pipeline's lock in the database, then
    sees the deployment's episode and joins it (without the lock it found none, and the
    pipeline got two messages). The deployment's commits once the assay's has asked."""
    out = io.StringIO()
    async with followed(emulator, tmp_path, database_url, ConsoleChat(out)) as services:
        asked = lock_statements(services)
        async with services.sessions() as first:
            await apply_observation(first, services, WATCH, Observation("Error", "crash"))
            second = asyncio.create_task(assay_breaches(services))
            waiting = asyncio.create_task(asked.wait())
            await asyncio.wait([second, waiting], return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            await first.commit()
        await second
        await OutboxSender(services).deliver_due()
        await OutboxSender(services).deliver_due()
        await assert_one_message_for_both(services, out.getvalue())


async def test_a_namesake_pipeline_of_another_workspace_gets_its_own_message(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """Workspace 1's `pipe` is in Error; an assay of workspace 2's `pipe`, followed in the same
    channel, breaches: its own message, not a line in workspace 1's; workspace 1's own assay
    then joins workspace 1's deployment."""
    out = io.StringIO()
    namesake = AssaySubscription(assay_id="4", assay_name="other", workspace_id=2, **COMMON)
    async with followed(emulator, tmp_path, database_url, ConsoleChat(out)) as services:
        async with services.sessions() as session:
            session.add(namesake)
            await session.commit()
        await deployment_fails(services)
        await OutboxSender(services).deliver_due()
        async with services.sessions() as session:
            theirs = BREACH.model_copy(update={"assay_id": "4"})
            await apply_result(session, namesake, theirs, None, services.clock())
            await session.commit()
        await assay_breaches(services)
        await OutboxSender(services).deliver_due()
        async with services.sessions() as session:
            ts = {(e.kind, e.title): e.message_ts for e in await open_episodes(session)}
    assert ts.pop(("assay", "other")) == "2.000000"  # a message of its own
    assert set(ts) == {("deployment", "pipe"), ("group", "pipe"), ("assay", "drifty")}
    assert set(ts.values()) == {"1.000000"}
    assert "Pipeline pipe: Deployment pipe: Error; Assay drifty: Alert" in out.getvalue()
    assert "Assay other" not in out.getvalue()


async def test_the_chart_of_an_assay_joining_a_deployments_message_goes_in_its_thread(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """A lone assay's breach renders its chart; joining the deployment's message, the chart
    is uploaded into that message's thread (as the group's), after the group's edit."""
    out = io.StringIO()
    chat = ConsoleChat(out, file_dir=tmp_path / "files")
    async with followed(emulator, tmp_path, database_url, chat) as services:
        await deployment_fails(services)
        async with services.sessions() as session:
            await apply_result(session, SUBSCRIPTION, BREACH, b"\x89PNG", services.clock())
            await session.commit()
        await OutboxSender(services).deliver_due()
        await OutboxSender(services).deliver_due()
        await assert_one_message_for_both(services, out.getvalue())
    (upload,) = [line for line in out.getvalue().splitlines() if line.startswith("[file in")]
    assert upload.startswith(f"[file in {ALERTS}, thread 1.000000] Drift of drifty")

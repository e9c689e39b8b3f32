"""Remediation as the poller stages it, without waiting on a real rollout: the services on a
clock the test moves, one watched deployment whose observations the test gives (as
`apply_observation` takes them from a poll), and approval requests linked to its episode put in
whatever state the test needs."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.chat.console import ConsoleChat
from bot.scheduler import Poller
from bot.services import open_services
from handlers.alerting.deployments import Observation, apply_observation
from handlers.alerting.episodes import close_episode
from handlers.context import Services
from storage.alerts import AlertEpisode, get_episode, pipeline_subject
from storage.approvals import ApprovalRequest, ApprovalState, create_request, get_request
from storage.audit import recent_entries
from storage.outbox import pending_messages
from storage.watches import DeploymentWatch, add_watch
from tests.helpers.clock import MovableClock
from tests.helpers.emulators import Emulator

PIPELINE_ID = 7
SUBJECT = pipeline_subject(PIPELINE_ID)
# The thread's note and the audit rows of a remediation withdrawn (handlers/approvals/outlived.py).
WITHDRAWN = "is withdrawn (stale): this alert recovered on its own first"
BOT_WITHDREW = [("bot", "rollback-stale", "intent"), ("bot", "rollback-stale", "ok")]


def remedy(live: str, earlier: str | None) -> dict[str, Any]:
    """What an alert on the pipeline offers with `live` deployed (`earlier` before it)."""
    return {
        "workspace_id": 1,
        "pipeline_id": PIPELINE_ID,
        "pipeline_name": "pipe",
        "rollback_to": {"number": 1, "version": earlier} if earlier else None,
        "from_version": live,
    }


@dataclass
class Watched:
    services: Services
    clock: MovableClock
    watch: DeploymentWatch

    async def seen(self, status: str, offers: dict[str, Any] | None = None) -> None:
        """One poll's observation of the deployment, then a minute passes."""
        async with self.services.sessions() as session:
            await apply_observation(
                session, self.services, self.watch, Observation(status), offers, self.clock()
            )
            await session.commit()
        self.clock.advance(60)

    async def recovered_with_pending_rollback(self, episode_id: int = 1) -> int:
        """Error (episode `episode_id`), a rollback asked for from its alert, then Running:
        the request it leaves pending."""
        await self.seen("Running")
        await self.seen("Error", remedy("v-new", "v-old"))
        await self.posted(episode_id)
        request_id = await self.linked(episode_id, ApprovalState.PENDING)
        await self.seen("Running")
        assert not (await self.episode(episode_id)).is_open
        return request_id

    async def episode(self, episode_id: int) -> AlertEpisode:
        async with self.services.sessions() as session:
            found = await get_episode(session, episode_id)
        assert found is not None
        return found

    async def posted(self, episode_id: int) -> None:
        """Its opening went out (as the outbox marks it): it can be edited and reopened."""
        async with self.services.sessions() as session:
            episode = await get_episode(session, episode_id)
            assert episode is not None
            episode.message_ts = "1.0"
            session.add(episode)
            await session.commit()

    async def notes(self) -> list[str]:
        """The thread notes staged so far, oldest first (nothing delivers them here)."""
        async with self.services.sessions() as session:
            return [r.body for r in await pending_messages(session) if r.kind == "thread"]

    async def edits(self) -> list[str]:
        """The message edits staged so far, oldest first (the episode's, as the request moves)."""
        async with self.services.sessions() as session:
            return [r.body for r in await pending_messages(session) if r.kind == "update"]

    async def audited(self, request_id: int) -> list[tuple[str, str, str]]:
        """(user, action, outcome) of the audit rows about request `request_id`."""
        async with self.services.sessions() as session:
            rows = reversed(await recent_entries(session, 200))
        prefix = f"request {request_id} "
        about = [r for r in rows if r.command_text.startswith(prefix)]
        return [(r.slack_user_id, r.action, r.outcome) for r in about]

    async def state(self, request_id: int) -> ApprovalRequest:
        async with self.services.sessions() as session:
            found = await get_request(session, request_id)
        assert found is not None
        return found

    async def remind(self) -> None:
        """The poller's round of reminders: settled flapping episodes close, outlived
        remediations are withdrawn."""
        await Poller(self.services).remind_open_episodes()

    async def unwatched(self) -> None:
        """Its open episode closed for a reason, as `unwatch` closes it."""
        async with self.services.sessions() as session:
            await close_episode(session, SUBJECT, "No longer watched", self.clock())
            await session.commit()

    def pass_window(self) -> None:
        """Move past the flapping window: a breach now opens new trouble, not a reopen."""
        self.clock.advance(self.services.settings.chatops_flap_window_seconds + 1)

    def pass_horizon(self) -> None:
        """Move past when a deployment's pending rollback is withdrawn, healthy since the
        close (half the approval TTL: withdrawal_due), and not past its expiry."""
        self.clock.advance(self.ttl / 2 + 1)

    @property
    def ttl(self) -> float:
        """How long a request may wait for approval, as the settings say (1 h by default)."""
        return self.services.settings.chatops_approval_ttl_seconds

    async def linked(self, episode_id: int, state: ApprovalState, **values: Any) -> int:
        """A rollback request an alert's button made for the episode, in `state`."""
        now = self.clock()
        request = ApprovalRequest(
            action="rollback",
            workspace_id=1,
            workspace_name="ws",
            pipeline_id=PIPELINE_ID,
            pipeline_name="pipe",
            pipeline_version="0123456789abcdef",
            deploy_id="pipe",
            requester_id="UALICE",
            requester_name="alice",
            channel="CAPPROVALS",
            created_at=now,
            expires_at=now + timedelta(seconds=self.ttl),
            state=state,
            episode_id=episode_id,
            **values,
        )
        async with self.services.sessions() as session:
            await create_request(session, request)
            await session.commit()
        assert request.id is not None
        return request.id


@asynccontextmanager
async def watched(
    emulator: Emulator, db_dir: Path, database_url: str, **settings: Any
) -> AsyncIterator[Watched]:
    """`settings`: any the test needs other than the defaults (a longer approval TTL)."""
    clock = MovableClock()
    config = emulator.bot_settings(db_dir, database_url=database_url, **settings)
    watch = DeploymentWatch(
        workspace_id=1,
        workspace_name="ws",
        pipeline_id=PIPELINE_ID,
        pipeline_name="pipe",
        channel="CALERTS",
        created_by="U",
    )
    async with open_services(config, chat=ConsoleChat(io.StringIO()), clock=clock) as services:
        async with services.sessions() as session:
            await add_watch(session, watch)
        yield Watched(services, clock, watch)

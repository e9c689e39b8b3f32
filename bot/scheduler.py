"""The poller: APScheduler jobs on the bot's event loop that watch deployments and assays,
recall open episodes, and an outbox sender that delivers what they enqueue.

Every job fans out with a bound (CHATOPS_POLL_CONCURRENCY) and never overlaps itself
(max_instances=1, coalesce), so a slow Wallaroo makes polls late, not piled up, and the slash
commands sharing the loop keep answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import SQLAlchemyError

from bot.logs import new_request_id
from bot.wallaroo import WallarooError
from handlers.alerting.assays import poll_assays
from handlers.alerting.assays import poll_state as assay_poll_state
from handlers.alerting.deployments import poll_deployments
from handlers.alerting.digest import send_due_digests
from handlers.alerting.episodes import stage_reminders
from handlers.alerting.flapping import close_settled
from handlers.alerting.outage import OutageTracker, is_outage
from handlers.alerting.outbox import OutboxSender
from handlers.approvals.outlived import withdraw_outlived
from handlers.chat import ChatError
from handlers.context import BOT_ACTOR, Services
from handlers.render.blocks import ok_reply
from storage.audit import ANCHOR_ACTION, ANCHOR_AREA, AuditUnavailable, Outcome, anchor_due
from storage.leases import give_up_lease, hold_lease
from storage.watches import list_subscriptions, list_watches

logger = logging.getLogger(__name__)


LEASE = "poller"
# How often the audit head is anchored at least, whatever the number of rows since.
ANCHOR_EVERY = timedelta(days=1)


class Poller:
    """One per process. With several replicas on one database, only the holder of the
    `poller` lease polls and delivers; the others keep asking for it, and take over within
    two poll intervals of the holder's last renewal."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.replica_id = services.settings.chatops_replica_id or default_replica_id()
        self.sender = OutboxSender(services, may_send=lambda: self.is_leader)
        self.outage = OutageTracker(services)
        self.is_leader = False
        self._scheduler: AsyncIOScheduler | None = None
        self._sending: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[object]] = set()
        # A job and `poll_once` (the demo's :advance) must not poll the same things at once.
        self._polling = {"deployments": asyncio.Lock(), "assays": asyncio.Lock()}

    # --- running ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Ask for the lease, schedule the jobs (the first at once) and start delivering."""
        interval = self.services.settings.chatops_poll_seconds
        await self.hold_lease()
        scheduler = AsyncIOScheduler(timezone=UTC)
        jobs: dict[str, tuple[Callable[[], Awaitable[None]], float]] = {
            "hold_lease": (self.hold_lease, interval / 2),
            "poll_deployments": (self._if_leader(self.poll_deployments), interval),
            "poll_assay_results": (self._if_leader(self.poll_assay_results), interval),
            "remind_open_episodes": (self._if_leader(self.remind_open_episodes), interval),
            "send_digests": (self._if_leader(self.send_digests), interval),
        }
        if self.services.settings.chatops_audit_channel:
            jobs["anchor_audit_log"] = (self._if_leader(self.anchor_audit_log), interval)
        for name, (job, every) in jobs.items():
            scheduler.add_job(
                self._stoppable(job),
                "interval",
                seconds=every,
                id=name,
                next_run_time=datetime.now(UTC),
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
        scheduler.start()
        self._scheduler = scheduler
        self._sending = asyncio.create_task(self.sender.run_forever(), name="outbox-sender")

    async def hold_lease(self) -> None:
        """Take or renew the lease; it lasts 1.5 poll intervals and is renewed every half."""
        seconds = 1.5 * self.services.settings.chatops_poll_seconds
        try:
            async with self.services.sessions() as session:
                held = await hold_lease(session, LEASE, self.replica_id, seconds)
        except SQLAlchemyError as exc:
            # Without the database nobody can be sure they lead: stop polling until it is back.
            logger.warning("could not renew the poller lease: %s", exc)
            held = False
        if held != self.is_leader:
            logger.info("replica %s %s the poller", self.replica_id, "leads" if held else "left")
            if held:
                self.sender.wake()
        self.is_leader = held
        self.services.metrics.leader.set(1 if held else 0)

    def _if_leader(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if self.is_leader:
                await job()

        run.__name__ = job.__name__
        return run

    def _stoppable(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """The job as the scheduler runs it: tracked, so `stop` can cut it short."""

        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                pass  # stopped mid-poll: what was committed stands, the rest is re-polled
            finally:
                self._running.discard(task)

        run.__name__ = run.__qualname__ = job.__name__
        return run

    async def stop(self) -> None:
        """Stop polling and delivering. Undelivered messages stay in the outbox for the next
        start; the jobs' own work is cut short safely (each commits atomically)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        running = list(self._running)
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)
        if self.is_leader:
            # Hand over at once rather than after the lease runs out.
            with contextlib.suppress(SQLAlchemyError):
                async with self.services.sessions() as session:
                    await give_up_lease(session, LEASE, self.replica_id)
                    await session.commit()
            self.is_leader = False
            self.services.metrics.leader.set(0)
        if self._sending is not None:
            self._sending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sending
            self._sending = None

    async def poll_once(self) -> None:
        """One full cycle and its delivery, for the console, tests and benchmarks."""
        await self.hold_lease()
        if not self.is_leader:
            return
        await asyncio.gather(self.poll_deployments(), self.poll_assay_results())
        await self.remind_open_episodes()
        await self.send_digests()
        if self.services.settings.chatops_audit_channel:
            await self.anchor_audit_log()
        await self.sender.deliver_due()

    # --- jobs -------------------------------------------------------------------------------

    async def poll_deployments(self) -> None:
        async with self._polling["deployments"]:
            await self._poll_watched_deployments()

    async def _poll_watched_deployments(self) -> None:
        async with self.services.sessions() as session:
            watches = await list_watches(session)
        work = functools.partial(poll_deployments, self.services, watches)
        await self._timed("deployments", work, len(watches))

    async def poll_assay_results(self) -> None:
        async with self._polling["assays"]:
            await self._poll_subscribed_assays()

    async def _poll_subscribed_assays(self) -> None:
        async with self.services.sessions() as session:
            subscriptions = await list_subscriptions(session)
            known = await assay_poll_state(session, subscriptions)
        work = functools.partial(poll_assays, self.services, subscriptions, known)
        await self._timed("assays", work, len(subscriptions))

    async def remind_open_episodes(self) -> None:
        """Recall open, unacknowledged, unsnoozed episodes in their thread now and then, and
        close the flapping ones that have settled."""
        every = self.services.settings.chatops_alert_reminder_seconds
        window = self.services.settings.chatops_flap_window_seconds
        async with self.services.sessions() as session:
            await stage_reminders(session, self.services.clock(), every)
            # A flapping episode Ok for its whole window closes now (flapping.py).
            await close_settled(session, self.services.clock(), window)
            await session.commit()
        # A remediation nobody decided, its alert recovered and healthy for the flapping
        # window since, is withdrawn (outlived.py; logs rather than raises, so the digests and
        # the delivery after this still run).
        await withdraw_outlived(self.services)
        self.sender.wake()

    async def send_digests(self) -> None:
        """Stage the daily digests that are due (handlers/alerting/digest.py: once a day each,
        whoever else tries), then deliver them."""
        if await send_due_digests(self.services):
            self.sender.wake()

    async def anchor_audit_log(self) -> None:
        """Post the audit chain's head hash to CHATOPS_AUDIT_CHANNEL every N rows and daily,
        and audit the anchor: outside the database, it shows a truncation
        (`audit verify --expect HASH`)."""
        settings = self.services.settings
        channel = settings.chatops_audit_channel
        if not channel:
            return
        async with self.services.sessions() as session:
            due = await anchor_due(
                session, settings.chatops_audit_anchor_rows, ANCHOR_EVERY, self.services.clock()
            )
        if due is None:
            return
        about = f"head {due.head_hash} after {due.rows} rows"
        check = f"wallaroo-chatops audit verify --expect {due.head_hash}"
        outcome, error = Outcome.OK, None
        try:
            await self.services.chat.post(
                channel, ok_reply(f"Audit log anchor: {about}. Check it with `{check}`.")
            )
        except ChatError as exc:
            outcome, error = Outcome.ERROR, str(exc)
            logger.warning("could not post the audit anchor: %s", exc)
        try:
            await self.services.audit.record(
                **replace(BOT_ACTOR, channel_id=channel).audit_fields(),
                command_text=f"anchor: {about}",
                area=ANCHOR_AREA,
                action=ANCHOR_ACTION,
                target=due.head_hash,
                outcome=outcome,
                duration_ms=0,
                wallaroo_error=error,
            )
        except AuditUnavailable as exc:
            logger.error("audit log: the anchor could not be recorded: %s", exc)

    # --- helpers ----------------------------------------------------------------------------

    async def _timed(
        self, job: str, work: Callable[[], Awaitable[list[BaseException]]], calls: int
    ) -> None:
        """Run one poll (about `calls` things; none: nothing to do), time it, and tell the
        outage tracker how it went."""
        if calls == 0 or not self.outage.may_poll():
            return
        new_request_id(f"poll-{job}-")
        started = time.perf_counter()
        failures = await work()
        seconds = time.perf_counter() - started
        self.services.metrics.poll_seconds.labels(job).observe(seconds)
        outages = [f for f in failures if is_outage(f)]
        # The one INFO line a poll writes (APScheduler's own lines are at DEBUG).
        figures = {"poll": job, "objects": calls, "seconds": round(seconds, 3)}
        logger.info(
            "poll %s: %d checked in %.2f s, %d failed%s",
            job,
            calls,
            seconds,
            len(failures),
            ", Wallaroo unreachable" if outages else "",
            extra={**figures, "failures": len(failures)},
        )
        for failure in failures:
            if isinstance(failure, WallarooError):
                self.services.metrics.wallaroo_errors.labels(type(failure).__name__).inc()
            if not is_outage(failure):
                logger.error("poll %s failed", job, exc_info=failure)
        if outages:
            await self.outage.failed(job, outages[0])
        else:
            await self.outage.succeeded(job)
        self.sender.wake()


def default_replica_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

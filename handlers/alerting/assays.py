"""Polling subscribed assays: new results since each assay's cursor, turned into episodes.

Both generations' results arrive as one view (`DriftResult`), so v1 and v2 alerts read the same.
Per assay, one transaction stages the episode changes, the outbox messages announcing them
and the moved cursor, so a result is handled exactly once even if the process dies mid-way:
either all of it is committed (and the outbox will deliver it) or none (and the next poll
sees the same result again). Assays of one pipeline opening episodes in the same poll are one
transaction and one group message (groups.py), which an open deployment episode of the
pipeline joins, as they join its (under the pipeline's lock in the database, groups.py);
an assay with nothing new may be silent (silence.py); a breach soon after a recovery reopens
the episode (flapping.py).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.tasks import gather_failures
from bot.wallaroo import DriftResult
from bot.wallaroo.drift import parse_time
from handlers.alerting.assay_results import BREACHES, apply_result, title_of
from handlers.alerting.groups import open_group
from handlers.alerting.remediation import remedy_by_name
from handlers.alerting.silence import check_silence, remember_width
from handlers.context import Services
from handlers.render.charts import drift_chart
from storage.alerts import (
    AlertEpisode,
    EpisodeKind,
    advance_cursor,
    all_cursors,
    assay_subject,
    open_episodes,
)
from storage.watches import AssaySubscription, is_subscribed, learn_workspace


async def poll_state(
    session: AsyncSession, subscriptions: list[AssaySubscription]
) -> dict[str, tuple[str | None, AlertEpisode | None]]:
    """Every subscribed assay's cursor and open episode, in two queries."""
    cursors = {c.assay_id: c.last_window_start for c in await all_cursors(session)}
    episodes = {e.subject: e for e in await open_episodes(session)}
    # Keyed by the id as text, as stored, whatever type a caller's subscription object holds.
    return {
        str(s.assay_id): (cursors.get(str(s.assay_id)), episodes.get(assay_subject(s.assay_id)))
        for s in subscriptions
    }


@dataclass
class Fetched:
    """An assay's results newer than its cursor, as one poll read them."""

    subscription: AssaySubscription
    cursor: str | None
    episode: AlertEpisode | None
    fresh: list[DriftResult]

    @property
    def pipeline_name(self) -> str:
        return next((r.pipeline_name for r in self.fresh if r.pipeline_name), None) or (
            self.subscription.pipeline_name
        )

    @property
    def workspace_id(self) -> int | None:
        """The pipeline's workspace: the subscription's, or (one made before migration 0009)
        what these results say, learnt for good by `stage` (no extra call)."""
        known = self.subscription.workspace_id
        return (
            known
            if known is not None
            else next((r.workspace_id for r in self.fresh if r.workspace_id is not None), None)
        )

    @property
    def opens(self) -> bool:
        """Whether these results open a drift episode (none open, or only a "no data")."""
        quiet = self.episode is None or self.episode.kind == EpisodeKind.NO_DATA
        return quiet and any(r.status in BREACHES for r in self.fresh)


async def poll_assays(
    services: Services,
    subscriptions: list[AssaySubscription],
    known: dict[str, tuple[str | None, AlertEpisode | None]],
) -> list[BaseException]:
    """One poll of the subscribed assays, CHATOPS_POLL_CONCURRENCY at once, from the cursors
    and episodes `poll_state` read (`known`). Assays of one pipeline and channel that open
    episodes in this poll are staged together, as one group message (a storm); the others
    one by one; the silent ones are looked at for "no data". Returns the failures; the
    others' work stands."""
    limit = asyncio.Semaphore(services.settings.chatops_poll_concurrency)

    async def bounded(work: Awaitable[object]) -> object:
        async with limit:
            return await work

    fetched = await asyncio.gather(
        *(bounded(fetch(services, s, *known[s.assay_id])) for s in subscriptions),
        return_exceptions=True,
    )
    failures = [f for f in fetched if isinstance(f, BaseException)]
    found = [f for f in fetched if isinstance(f, Fetched)]
    # By channel and pipeline; a pipeline by workspace and name (same-named ones of two
    # workspaces are two pipelines).
    storms: dict[tuple[str, int | None, str], list[Fetched]] = defaultdict(list)
    for item in found:
        if item.opens:
            storms[(item.subscription.channel, item.workspace_id, item.pipeline_name)].append(item)
    grouped = [items for items in storms.values() if len(items) > 1]
    together = {id(item) for items in grouped for item in items}
    work: list[Awaitable[object]] = [bounded(stage(services, items)) for items in grouped]
    for item in found:
        if not item.fresh:
            work.append(bounded(check_silence(services, item.subscription, item.cursor)))
        elif id(item) not in together:
            work.append(bounded(stage(services, [item])))
    return failures + await gather_failures(work)


async def check_assay(
    services: Services,
    subscription: AssaySubscription,
    cursor: str | None,
    episode: AlertEpisode | None,
) -> int:
    """Handle the assay's results newer than `cursor` (its stored cursor, which the caller
    read with its open `episode` for all assays at once); returns how many were new."""
    item = await fetch(services, subscription, cursor, episode)
    return await stage(services, [item]) if item.fresh else 0


async def fetch(
    services: Services,
    subscription: AssaySubscription,
    cursor: str | None,
    episode: AlertEpisode | None,
) -> Fetched:
    """The assay's results newer than `cursor`."""
    assay_id = str(subscription.assay_id)
    since = cursor or None  # NO_RESULT_YET: subscribed before any result, so all count
    results = await services.wallaroo.drift_results(assay_id, start=since, newer_than=since)
    seen = parse_time(since) if since else None
    fresh = [r for r in results if r.status != "BaselineRun" and (seen is None or r.started > seen)]
    if fresh and cursor is None:
        # No cursor (a subscription stored without one): start from the latest result, not
        # with the assay's history.
        fresh = fresh[-1:]
    for result in fresh[-1:]:
        remember_width(services, result)
    return Fetched(subscription, cursor, episode, fresh)


async def stage(services: Services, items: list[Fetched]) -> int:
    """Stage the results of `items` in one transaction, with their moved cursors; several
    items are a storm, shown in one group message (and without a chart each). Returns how
    many results were handled (0 if another poll handled them first)."""
    now, window = services.clock(), services.settings.chatops_flap_window_seconds
    storm = len(items) > 1
    chart = None if storm else await _chart(services, items[0])
    # What the alert may offer (Roll back, Undeploy), asked before the transaction: one
    # pipeline per stage, storm or not.
    remedy = None
    if any(i.opens for i in items):
        remedy = await remedy_by_name(services, items[0].pipeline_name, items[0].workspace_id)
    # Opening or joining, it waits for the pipeline's lock (groups.py): the deployment's
    # transaction, polled meanwhile, and ours go one after the other, the second joining.
    async with services.sessions() as session:
        items = [i for i in items if await is_subscribed(session, i.subscription.assay_id)]
        if not items:
            return 0  # unsubscribed while we asked Wallaroo
        for item in items:
            if (learnt := item.workspace_id) is not None:
                await learn_workspace(session, item.subscription, learnt)
        try:
            group = None
            if storm:
                first = items[0].subscription
                busy = frozenset(assay_subject(i.subscription.assay_id) for i in items)
                pipeline, workspace = items[0].pipeline_name, items[0].workspace_id
                group = await open_group(session, first.channel, pipeline, now, busy, workspace)
            for item in items:
                for result in item.fresh:
                    await apply_result(
                        session, item.subscription, result, chart, now, group, window, remedy
                    )
        except IntegrityError:
            # Another poller opened the episode first (a lease hand-over): theirs stands.
            await session.rollback()
            return 0
        for item in items:
            newest = item.fresh[-1].window_start
            if not await advance_cursor(session, item.subscription.assay_id, item.cursor, newest):
                return 0  # another poll handled these results first
        await session.commit()
    return sum(len(i.fresh) for i in items)


async def _chart(services: Services, item: Fetched) -> bytes | None:
    """The drift chart of an episode this assay's results open, up to its first breach."""
    if not item.opens:
        return None
    assay_id = str(item.subscription.assay_id)
    history = await services.wallaroo.drift_results(assay_id)
    breach = next(r for r in item.fresh if r.status in BREACHES)
    shown = [r for r in history if r.started <= breach.started] or [breach]
    title = title_of(item.subscription, breach)
    return await asyncio.to_thread(drift_chart, shown, title)

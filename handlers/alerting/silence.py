"""Silent assays: a subscribed assay with no new result for two of its windows opens a "no
data" episode (its own kind, title and recovery), which closes when a result arrives.

A poll that finds nothing new costs nothing more unless a result is already a window late
(the width is remembered from the results seen, else asked once); only then is Wallaroo asked
whether the assay is active and, for v2, when its next run is (`get_next_run`: overdue by a
window is silent too), and then, unless its "no data" episode is open already (a database
read, before any more calls), whether its pipeline is deployed: an undeployed one serves
nothing, so its assays' silence opens nothing. Times are the services' clock; windows are
Wallaroo's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.wallaroo import DriftResult
from bot.wallaroo.assays import is_v2_id
from bot.wallaroo.drift import from_v1, parse_time, window_seconds
from handlers.alerting.episodes import close_and_announce
from handlers.alerting.groups import join_open_group
from handlers.alerting.staging import enqueue_for_episode
from handlers.context import Services
from handlers.render.alert_messages import render_episode
from handlers.render.alert_notes import recovery_note
from storage.alerts import AlertEpisode, EpisodeKind, assay_subject, open_episode
from storage.outbox import OutboxKind
from storage.watches import AssaySubscription, alert_extras, is_subscribed, workspace_detail

SILENT_AFTER_WINDOWS = 2
# How often an assay whose width Wallaroo did not say (no windowed result, no window) is asked
# again: a quarter of an hour, as for an hour-wide window.
UNKNOWN_WIDTH_ASK_SECONDS = 900.0


@dataclass
class _Memory:
    """What this process remembers of the assays of one Wallaroo client, by assay id."""

    widths: dict[str, float] = field(default_factory=dict)  # an assay's width never changes
    asked: dict[str, datetime] = field(default_factory=dict)  # last asked about its schedule


# Per client (the Wallaroo it talks to and the clock it runs on go with it), gone with it.
_memories: WeakKeyDictionary[object, _Memory] = WeakKeyDictionary()


def _memory(services: Services) -> _Memory:
    return _memories.setdefault(services.wallaroo, _Memory())


@dataclass(frozen=True)
class Expected:
    width: float  # seconds
    active: bool
    next_run: datetime | None = None
    pipeline_name: str = ""
    pipeline_id: int | None = None
    workspace_id: int | None = None


def remember_width(services: Services, result: DriftResult) -> None:
    """Note the assay's window width from a result that says where its window ends."""
    if result.window_end:
        width = (parse_time(result.window_end) - result.started).total_seconds()
        if width > 0:
            _memory(services).widths[result.assay_id] = width


async def check_silence(
    services: Services, subscription: AssaySubscription, cursor: str | None
) -> bool:
    """After a poll found no new result: open the assay's "no data" episode if it is silent
    (True if one was opened). Nothing before its first result (no cursor to go by)."""
    assay_id = str(subscription.assay_id)
    if not cursor:
        return False
    now, last_start = services.clock(), parse_time(cursor)
    memory = _memory(services)
    width = memory.widths.get(assay_id)
    # Silent once past its window's end and two more (v1); v2 may be overdue a window sooner.
    windows = 2 if is_v2_id(assay_id) else 1 + SILENT_AFTER_WINDOWS
    if width is not None and now <= last_start + timedelta(seconds=windows * width):
        return False  # not silent yet: no need to ask Wallaroo anything
    asked = memory.asked.get(assay_id)
    every = width / 4 if width is not None else UNKNOWN_WIDTH_ASK_SECONDS
    if asked is not None and 0 <= (now - asked).total_seconds() < every:
        return False  # asked lately (inactive, not yet overdue, no width): not every poll
    memory.asked[assay_id] = now
    expected = await _expected(services, assay_id, cursor)
    if expected is None:
        return False
    # Kept before the active check: an inactive assay's width is what throttles the asking.
    memory.widths[assay_id] = expected.width
    if not expected.active:
        return False
    last_end = last_start + timedelta(seconds=expected.width)
    late = now - last_end
    overdue = expected.next_run is not None and now > expected.next_run + timedelta(
        seconds=expected.width
    )
    if late <= timedelta(seconds=SILENT_AFTER_WINDOWS * expected.width) and not overdue:
        return False
    async with services.sessions() as session:  # a database read before a Wallaroo call
        if await open_episode(session, assay_subject(assay_id)) is not None:
            return False  # already no data (or in drift): whether deployed changes nothing
    if not await _serving(services, expected, subscription.workspace_id):
        return False  # undeployed (by the bot's Undeploy, say): no traffic, nothing to assay
    async with services.sessions() as session:
        if not await is_subscribed(session, assay_id):
            return False
        try:
            opened = await _open_no_data(session, subscription, expected, last_end, now)
            await session.commit()
        except IntegrityError:
            return False  # another poller opened the subject's episode first: theirs stands
    return opened


def _every(seconds: float) -> str:
    for unit, length in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= length and seconds % length == 0:
            return f"{int(seconds // length)} {unit}"
    return f"{seconds:g} s"


async def _open_no_data(
    session: AsyncSession,
    subscription: AssaySubscription,
    expected: Expected,
    last_end: datetime,
    now: datetime,
) -> bool:
    subject = assay_subject(subscription.assay_id)
    if await open_episode(session, subject) is not None:
        return False  # already no data; or in drift, whose episode already has attention
    pipeline_name = expected.pipeline_name or subscription.pipeline_name
    detail = {
        "pipeline_name": pipeline_name,
        **workspace_detail(subscription),  # with the name, its pipeline (groups.py)
        "last_result": last_end.isoformat(),
        "expected_every": _every(expected.width),
        "next_run": expected.next_run.isoformat() if expected.next_run else None,
        **alert_extras(subscription),  # its runbook and owner, shown on the alert
    }
    episode = AlertEpisode(
        kind=EpisodeKind.NO_DATA,
        subject=subject,
        title=subscription.assay_name or f"assay {subscription.assay_id}",
        channel=subscription.channel,
        severity="No data",
        detail=json.dumps(detail),
        opened_at=now,
    )
    await join_open_group(session, episode, pipeline_name)
    session.add(episode)
    await session.flush()
    await enqueue_for_episode(session, episode, OutboxKind.POST, render_episode(episode, now))
    return True


async def end_silence(session: AsyncSession, episode: AlertEpisode, now: datetime) -> None:
    """A result arrived: the "no data" episode closes with its recovery (the caller then
    handles the result as any other, which may open a drift episode)."""
    await close_and_announce(session, episode, recovery_note(episode), now, recovered=True)


async def _serving(services: Services, expected: Expected, workspace_id: int | None) -> bool:
    """Whether the assay's pipeline is deployed: an undeployed one serves nothing, so its
    assays' silence is what was asked for, not trouble (a watched deployment that went away
    unasked is the deployment alert's to tell). True when the pipeline cannot be told apart
    (no id, and its name in several workspaces, or not listed): silence is news then.
    `workspace_id`: the subscription's, for a v1 assay whose results do not say it."""
    listings = await services.wallaroo.list_pipelines(expected.workspace_id or workspace_id)
    found = [
        listing
        for listing in listings
        if listing.pipeline.id == expected.pipeline_id
        or (expected.pipeline_id is None and listing.pipeline.name == expected.pipeline_name)
    ]
    if len(found) != 1:
        return True
    listing = found[0]
    return await services.wallaroo.live_deployment(listing.workspace.id, listing) is not None


async def _expected(services: Services, assay_id: str, cursor: str) -> Expected | None:
    """What Wallaroo says of the assay's schedule: its width, whether it runs, its next run."""
    client = services.wallaroo
    if is_v2_id(assay_id):
        assay = await client.get_assay_v2(assay_id)
        width = window_seconds(assay)
        runs = await client.get_assay_v2_next_run(assay_id)
        upcoming = parse_time(runs.next_run) if runs.next_run else None
        if width is None:
            return None
        origin = assay.targeting.data_origin
        return Expected(
            width,
            assay.active,
            upcoming,
            origin.pipeline_name,
            origin.pipeline_id,
            origin.workspace_id,
        )
    found = await client.get_assay_results(int(assay_id), start=cursor)
    views = [from_v1(r, assay_id, "assays/get_assay_results") for r in found]
    latest = [v for v in views if v.window_end and v.status != "BaselineRun"]
    if not latest:
        return None
    last = latest[-1]
    width = (parse_time(last.window_end or "") - last.started).total_seconds()
    pipeline_id = next((r.pipeline_id for r in found if r.pipeline_id is not None), None)
    active = True
    if pipeline_id is not None:
        listed = {str(a.id): a for a in await client.list_assays(pipeline_id)}
        active = listed[assay_id].active if assay_id in listed else True
    return Expected(width, active, None, last.pipeline_name or "", pipeline_id)
